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
  // --- Meeting controls: chat, participants, hands, reactions, lock, invite, shortcuts ---
  chat: [
    ['path', { d: 'M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.4A8 8 0 1 1 21 12z' }],
  ],
  people: [
    ['circle', { cx: '9', cy: '8', r: '3.5' }],
    ['path', { d: 'M2.5 20a6.5 6.5 0 0 1 13 0M16 4.5a3.5 3.5 0 0 1 0 7M18 14.5a6.5 6.5 0 0 1 3.5 5.5' }],
  ],
  hand: [
    ['path', { d: 'M8 12V5.5a1.5 1.5 0 0 1 3 0V11M11 10.5V4a1.5 1.5 0 0 1 3 0v7M14 10.5V5.5a1.5 1.5 0 0 1 3 0V14a7 7 0 0 1-7 7h-.5a6 6 0 0 1-4.8-2.4l-2.2-3a1.5 1.5 0 0 1 2.4-1.8L8 16V12' }],
  ],
  smile: [
    ['circle', { cx: '12', cy: '12', r: '9.5' }],
    ['path', { d: 'M8 14a4.5 4.5 0 0 0 8 0M9 9.5h.01M15 9.5h.01' }],
  ],
  lock: [
    ['rect', { x: '5', y: '11', width: '14', height: '10', rx: '2' }],
    ['path', { d: 'M8 11V7a4 4 0 0 1 8 0v4' }],
  ],
  invite: [
    ['circle', { cx: '9', cy: '8', r: '4' }],
    ['path', { d: 'M2 21a7 7 0 0 1 14 0M19 8v6M16 11h6' }],
  ],
  keyboard: [
    ['rect', { x: '2', y: '6', width: '20', height: '12', rx: '2' }],
    ['path', { d: 'M6 10h.01M10 10h.01M14 10h.01M18 10h.01M7 14h10' }],
  ],
  more: [
    ['path', { d: 'M12 5h.01M12 12h.01M12 19h.01', 'stroke-width': '3' }],
  ],
  // --- end of the meeting controls' icons ---
  // --- Devices, screen sharing, layout ---
  screen: [
    ['rect', { x: '2', y: '3', width: '20', height: '14', rx: '2' }],
    ['path', { d: 'M8 21h8M12 17v4M9 10l3-3 3 3M12 7v6' }],
  ],
  settings: [
    ['circle', { cx: '12', cy: '12', r: '3' }],
    ['path', { d: 'M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z' }],
  ],
  layout: [
    ['rect', { x: '2', y: '3', width: '20', height: '12', rx: '1.5' }],
    ['rect', { x: '2', y: '17.5', width: '5.5', height: '3.5', rx: '1' }],
    ['rect', { x: '9.25', y: '17.5', width: '5.5', height: '3.5', rx: '1' }],
    ['rect', { x: '16.5', y: '17.5', width: '5.5', height: '3.5', rx: '1' }],
  ],
  selfView: [
    ['path', { d: 'M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12z' }],
    ['circle', { cx: '12', cy: '12', r: '3' }],
  ],
  fullscreen: [
    ['path', { d: 'M3 9V3h6M21 9V3h-6M3 15v6h6M21 15v6h-6' }],
  ],
  pin: [
    ['path', { d: 'M9 3h6l-1 6 4 3v2H6v-2l4-3zM12 14v7' }],
  ],
  // --- end of the devices, screen sharing and layout icons ---
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
