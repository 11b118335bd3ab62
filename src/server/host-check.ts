// The editor has no authentication: what keeps other web sites out is the browser's same-origin
// rule, and DNS rebinding gets around it (a site's name is made to resolve to 127.0.0.1, so its page
// talks to the editor as "itself"). The Host header still carries that site's name, so requests are
// served only for the names the editor was bound for; a POST from a browser must also come from
// the editor's own page (its Origin header), so another site's page cannot even send one.
import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** An address as it appears in a Host header: IPv6 in brackets, lower case. */
function hostForm(name: string): string {
  const n = name.trim().toLowerCase();
  return n.includes(':') && !n.startsWith('[') ? `[${n}]` : n;
}

/**
 * The host names requests may carry: the loopback names, the address bound (and, bound to every
 * interface, each interface's address), and those allowed by hand (--allowed_hosts).
 */
export function allowedHostNames(bindHost: string, extra: readonly string[] = []): Set<string> {
  const names = new Set([...LOOPBACK_NAMES, ...extra.filter((e) => e.trim() !== '').map(hostForm)]);
  if (WILDCARDS.has(bindHost.trim())) {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(hostForm(a.address));
  } else {
    names.add(hostForm(bindHost));
  }
  return names;
}

/** The host name of a Host header value or of a URL's host, without its port. */
function nameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** Why a request may not be served (a 403's message), or undefined when it may. */
export function requestOriginProblem(req: IncomingMessage, allowed: ReadonlySet<string>, port: number): string | undefined {
  const host = req.headers.host;
  if (!host) return 'the request has no Host header';
  if (!allowed.has(nameOf(host))) {
    return `the host name '${nameOf(host)}' is not one this editor serves (${[...allowed].join(', ')}); ` +
      'a name that resolves to this machine can be allowed with --allowed_hosts';
  }
  const origin = req.headers.origin;
  if (req.method !== 'GET' && req.method !== 'HEAD' && origin !== undefined) {
    let url: URL | null = null;
    try {
      url = new URL(origin);
    } catch { /* 'null' and other opaque origins */ }
    const ownPort = url ? Number(url.port || (url.protocol === 'https:' ? 443 : 80)) : NaN;
    if (!url || url.protocol !== 'http:' || !allowed.has(nameOf(url.host)) || ownPort !== port) {
      return `a ${req.method} from the page of another site (Origin ${origin}) is refused: only the editor's own page may send one`;
    }
  }
  return undefined;
}
