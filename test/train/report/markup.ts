// A small reader for the markup the report pages write (test helper): elements by tag name with
// their attributes decoded, enough to check coordinates and references without a DOM library.

export interface Element {
  tag: string;
  attrs: Record<string, string>;
  /** Text up to the closing tag (for elements that have one), entities decoded. */
  text: string;
}

export function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) =>
    ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!,
  );
}

export function elements(markup: string, tag: string): Element[] {
  const out: Element[] = [];
  const re = new RegExp(`<${tag}\\b([^>]*?)(/?)>`, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(markup))) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]!] = decodeEntities(a[2]!);
    let text = '';
    if (m[2] !== '/') {
      const end = markup.indexOf(`</${tag}>`, re.lastIndex);
      if (end >= 0) text = decodeEntities(markup.slice(re.lastIndex, end).replace(/<[^>]*>/g, ''));
    }
    out.push({ tag, attrs, text });
  }
  return out;
}

/** A polyline's points attribute as [x, y] pairs. */
export function points(attr: string): [number, number][] {
  return attr
    .trim()
    .split(/\s+/)
    .map((p) => p.split(',').map(Number) as [number, number]);
}
