// Small DOM helpers. Text always goes in through textContent, never innerHTML.

/**
 * @typedef {object} ElOptions
 * @property {string} [id]
 * @property {string} [className]
 * @property {string} [text]                      Set as textContent.
 * @property {Record<string, string>} [attrs]      Set with setAttribute (never `style`: CSP).
 * @property {Record<string, string>} [data]       Set on dataset.
 * @property {Record<string, (ev: any) => void>} [on]
 */

/**
 * Create an element.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {ElOptions} [opts]
 * @param {(Node | string | null | undefined | false)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, opts = {}, children = []) {
  const node = document.createElement(tag);
  if (opts.id) node.id = opts.id;
  if (opts.className) node.className = opts.className;
  if (opts.text !== undefined) node.textContent = opts.text;
  for (const [name, value] of Object.entries(opts.attrs ?? {})) node.setAttribute(name, value);
  for (const [name, value] of Object.entries(opts.data ?? {})) node.dataset[name] = value;
  for (const [name, handler] of Object.entries(opts.on ?? {})) node.addEventListener(name, handler);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child);
  }
  return node;
}

/**
 * The main landmark every view renders into.
 * @returns {HTMLElement}
 */
export function appRoot() {
  const root = document.getElementById('app');
  if (!root) throw new Error('index.html has no #app element');
  return root;
}

/**
 * Move keyboard focus to the first heading of a new view, so that screen readers read it.
 * @param {ParentNode} root
 */
export function focusHeading(root) {
  const heading = root.querySelector('h1, h2');
  if (heading instanceof HTMLElement) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}
