// @ts-check
/**
 * The one way this page builds DOM: elements and text nodes. Data only ever becomes
 * `textContent` or a vetted attribute; nothing here parses HTML.
 */

/** Attributes that could run code or change where a link goes are refused outright. */
const FORBIDDEN_ATTRIBUTE = /^(on|srcdoc$|style$|formaction$)/i;
const SAFE_URL = /^(https:\/\/|\/(?!\/)|\?|#)/;

/**
 * Create an element.
 * @param {string} tag - Tag name.
 * @param {{className?: string, text?: string|number, attrs?: Record<string, string|number|boolean>,
 *   href?: string}} [props] - Class, text content, plain attributes and a checked link target.
 * @param {Array<Node|string|null|false|undefined>} [children] - Nodes or strings (as text).
 * @returns {HTMLElement} The element.
 * @throws {Error} For an event-handler attribute or a non-https link.
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  for (const [name, value] of Object.entries(props.attrs || {})) {
    if (FORBIDDEN_ATTRIBUTE.test(name) || name.toLowerCase() === 'href' || name.toLowerCase() === 'src') {
      throw new Error(`refusing to set attribute '${name}' from el(); use props.href`);
    }
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  if (props.href !== undefined) {
    if (!SAFE_URL.test(props.href))
      throw new Error(`refusing link target ${JSON.stringify(props.href.slice(0, 60))}`);
    node.setAttribute('href', props.href);
  }
  append(node, children);
  return node;
}

/**
 * Append children; strings become text nodes, falsy entries are skipped.
 * @param {Element|DocumentFragment} parent - The parent.
 * @param {Array<Node|string|null|false|undefined>} children - What to add.
 * @returns {Element|DocumentFragment} The parent.
 */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return parent;
}

/**
 * Remove every child of a node.
 * @param {Node} node - The node to empty.
 */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/**
 * The element with this id, or an error naming it (a layout/script mismatch).
 * @param {string} id - The element id.
 * @returns {HTMLElement} The element.
 */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no element #${id}`);
  return node;
}

/**
 * Text where `backticked` parts are commands: they become <code> elements, the rest text
 * nodes. One rule for every place that shows a command (the map's notice, the panel), so a
 * command never shows its raw backticks.
 * @param {string} text - Plain text with backticked commands.
 * @returns {Node[]} Nodes to append.
 */
export function withCode(text) {
  /** @type {Node[]} */
  const nodes = [];
  for (const part of text.split(/(`[^`]+`)/)) {
    if (part.length > 2 && part.startsWith('`') && part.endsWith('`'))
      nodes.push(el('code', { text: part.slice(1, -1) }));
    else if (part) nodes.push(document.createTextNode(part));
  }
  return nodes;
}
