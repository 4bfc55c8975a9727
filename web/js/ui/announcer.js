// The page's polite live region (#announcer in index.html, aria-live="polite",
// aria-atomic="false"): tells screen-reader users what happens without moving their focus
// (someone joined or left, raised a hand, wrote in the chat while it is closed, the microphone
// went off...).
//
// Each sentence is added as its own line rather than replacing the region's text: two things
// that happen at once (someone joins as another raises a hand) are both read, in order, and
// the same sentence said twice is read twice. Screen readers read what is added, not what is
// removed, so a line is taken out after a while, and the region never holds more than a few.

/** How long a line stays in the region (it has been read by then). */
const LINE_MS = 10_000;
/** The most lines kept at once: a burst does not grow the region without end. */
const MAX_LINES = 5;

/**
 * Announce a sentence (politely: after what the screen reader is saying).
 * @param {string} text
 */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region || !text) return;
  const line = document.createElement('p');
  line.textContent = text;
  region.append(line);
  while (region.childElementCount > MAX_LINES) region.firstElementChild?.remove();
  setTimeout(() => line.remove(), LINE_MS);
}
