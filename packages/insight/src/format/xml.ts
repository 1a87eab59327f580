// Text placed in the SVG that sharp renders to PNG (confusion matrices, prediction grids, explanation pictures).

/** `text` with XML's five special characters escaped, for an SVG element's text or an attribute value. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch]!);
}
