"""`task2box bench transfer-estimate`: do transferability estimates rank measured transfer?"""
