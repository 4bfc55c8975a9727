// Inline SVG icons, built with createElementNS (CSP: no inline markup, no external sprite).
// Stroke icons on a 24×24 grid, drawn in currentColor; decorative (aria-hidden): every button
// carries its own text label.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** @typedef {[string, Record<string, string>][]} Shape */

/** @satisfies {Record<string, Shape>} */
const SHAPES = {
  mic: [
    ['rect', { x: '9', y: '2', width: '6', height: '12', rx: '3' }],
    ['path', { d: 'M5 10v1a7 7 0 0 0 14 0v-1M12 18v4M8 22h8' }],
  ],
  micOff: [
    ['path', { d: 'M15 9.5V5a3 3 0 0 0-5.8-1.1M9 9v2a3 3 0 0 0 5 2.2' }],
    ['path', { d: 'M19 10v1a7 7 0 0 1-1.1 3.8M5 10v1a7 7 0 0 0 11.3 5.5M12 18v4M8 22h8' }],
    ['path', { d: 'M3 3l18 18' }],
  ],
  camera: [
    ['rect', { x: '2', y: '6', width: '14', height: '12', rx: '2' }],
    ['path', { d: 'M16 10l6-4v12l-6-4z' }],
  ],
  cameraOff: [
    ['path', { d: 'M10 6h4a2 2 0 0 1 2 2v4M16 16v0a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h2' }],
    ['path', { d: 'M16 10l6-4v12l-5-3.3' }],
    ['path', { d: 'M3 3l18 18' }],
  ],
  hangup: [
    ['path', {
      d: 'M1.5 13c5.8-5.3 15.2-5.3 21 0l-2.7 3.8-4.3-1.8v-3c-2.3-.8-4.7-.8-7 0v3l-4.3 1.8z',
      fill: 'currentColor',
    }],
  ],
  link: [
    ['path', { d: 'M10 14a4 4 0 0 0 5.7 0l3.5-3.5a4 4 0 0 0-5.7-5.7L12 6.3' }],
    ['path', { d: 'M14 10a4 4 0 0 0-5.7 0l-3.5 3.5a4 4 0 0 0 5.7 5.7l1.5-1.5' }],
  ],
  sound: [
    ['path', { d: 'M4 9h4l5-4v14l-5-4H4z' }],
    ['path', { d: 'M16.5 8.5a5 5 0 0 1 0 7M19 6a8.5 8.5 0 0 1 0 12' }],
  ],
  warning: [
    ['path', { d: 'M12 3l10 18H2z' }],
    ['path', { d: 'M12 10v5M12 18v.5' }],
  ],
};

/** @typedef {keyof typeof SHAPES} IconName */

/**
 * A decorative icon.
 * @param {IconName} name
 * @param {string} [className]
 * @returns {SVGSVGElement}
 */
export function icon(name, className = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '2');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  for (const [tag, attrs] of SHAPES[name] ?? []) {
    const part = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) part.setAttribute(k, v);
    svg.append(part);
  }
  return svg;
}
