// HTML building blocks shared by the training page and the results page: escaping, the page
// shell (inline CSS, no external resources) and a row of captioned images.

/** Escapes text for HTML element content and for quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

/**
 * A relative file path as an escaped URL for href/src: each segment percent-encoded (so `#`, `?`,
 * spaces and quotes in a name cannot change what is loaded), `/` kept as the separator. Absolute
 * paths and `..` segments are refused: a page only points inside its own folder.
 */
export function relativeUrl(relPath: string): string {
  const parts = relPath.split(/[\\/]/);
  if (relPath.startsWith('/') || /^[A-Za-z]:/.test(relPath) || parts.some((p) => p === '..' || p === '')) {
    throw new Error(`not a relative path inside the page's folder: ${JSON.stringify(relPath)}`);
  }
  return escapeHtml(parts.map((p) => encodeURIComponent(p)).join('/'));
}

export interface PageImage {
  label: string;
  /** Path relative to the page's folder, e.g. "images/epoch001_….png". */
  src: string;
  width?: number;
  height?: number;
}

/** One row of images, each linked to its full-size file, with its label underneath. */
export function imageRow(images: readonly PageImage[], displayWidth: number): string {
  const cells = images.map((im) => {
    const url = relativeUrl(im.src);
    const size =
      im.width && im.height
        ? ` width="${Math.min(displayWidth, im.width)}" height="${Math.round((im.height * Math.min(displayWidth, im.width)) / im.width)}"`
        : ` style="width:${displayWidth}px"`;
    const label = escapeHtml(im.label);
    return (
      `<figure><a href="${url}"><img src="${url}" alt="${label}"${size} loading="lazy"></a>` +
      `<figcaption>${label}</figcaption></figure>`
    );
  });
  return `<div class="row">${cells.join('')}</div>`;
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#222;background:#fafafa;line-height:1.4}
h1{font-size:1.4rem;margin:0 0 1rem}
h2{font-size:1.15rem;margin:1.8rem 0 .6rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem;font-weight:600}
.row{display:flex;flex-wrap:wrap;gap:.8rem;align-items:flex-start}
figure{margin:0;background:#fff;border:1px solid #ddd;padding:.4rem;max-width:100%}
figure img{display:block;max-width:100%;height:auto;image-rendering:auto}
figcaption{font-size:.85rem;color:#555;text-align:center;margin-top:.3rem;word-break:break-word}
.chart{background:#fff;border:1px solid #ddd;max-width:100%;height:auto}
.note{color:#666;font-size:.85rem}
`;

export interface PageShell {
  title: string;
  /** Already-escaped body HTML. */
  body: string;
  /** Reload the page every so many seconds (the official training page uses 30); 0: never. */
  refreshSeconds?: number;
}

export function renderPage(p: PageShell): string {
  const refresh = p.refreshSeconds && p.refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${Math.round(p.refreshSeconds)}">\n` : '';
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n${refresh}` +
    `<title>${escapeHtml(p.title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n` +
    `<h1>${escapeHtml(p.title)}</h1>\n${p.body}\n</body>\n</html>\n`
  );
}
