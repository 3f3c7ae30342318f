/**
 * Where the renderer loads an image from: the `winnow-image:` protocol in Electron (served by the
 * main process with path containment, never raw file://), or the HTTP routes of `winnow serve`.
 */
export function thumbnailUrl(hash: string, size: 64 | 84 | 128 | 256 = 128): string {
  return window.winnow ? `winnow-image://thumbs/${size}/${hash}.png` : `/thumbs/${size}/${hash}.png`;
}

export function imageUrl(hash: string): string {
  return window.winnow ? `winnow-image://images/${hash}.png` : `/images/${hash}.png`;
}
