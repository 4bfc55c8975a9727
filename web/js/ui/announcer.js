// The page's polite live region (#announcer in index.html): tells screen-reader users what
// happens without moving their focus (someone joined, left, the microphone went off...).

/**
 * Announce a sentence. The region is emptied first so that the same sentence said twice in a
 * row is read twice.
 * @param {string} text
 */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}
