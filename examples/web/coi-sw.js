/*
 * A service worker that makes the playground cross-origin isolated on a static host that
 * cannot set response headers (GitHub Pages, a plain file server): it answers each request of
 * the pages in its scope with the network's response, to which it adds the three headers that
 * `npm run web` (scripts/serve-web.ts) and the site's _headers file set:
 *
 *   Cross-Origin-Opener-Policy: same-origin
 *   Cross-Origin-Embedder-Policy: require-corp
 *   Cross-Origin-Resource-Policy: same-origin   (same-origin answers only)
 *
 * Why: without isolation a browser gives no SharedArrayBuffer, and gpu.js's webasm mode runs
 * without its threads. A page learns it is isolated only from its own document's headers, so
 * the first visit loads without them, registers this worker, and reloads once
 * (scripts/build-site.mjs puts that snippet in each playground page; it does nothing where the
 * host already sends the headers, as `crossOriginIsolated` is then true).
 *
 * Opaque answers (cross-origin, no-cors) and redirects are passed through unchanged: under
 * require-corp a cross-origin resource loads only if its own server allows it (CORS or
 * Cross-Origin-Resource-Policy), as with real headers.
 * Written for verydeep (issue #17); plain JavaScript, copied as is into the site.
 */
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  // Chromium refuses a fetch() of an 'only-if-cached' request that is not same-origin mode
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(
    fetch(request).then((response) => {
      // opaque answers (no-cors, cross-origin) cannot be read or rebuilt; status 0 has no headers
      if (response.status === 0 || response.type === 'opaque' || response.type === 'opaqueredirect') return response;
      const headers = new Headers(response.headers);
      headers.set('Cross-Origin-Opener-Policy', 'same-origin');
      headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
      if (new URL(response.url || request.url).origin === self.location.origin) headers.set('Cross-Origin-Resource-Policy', 'same-origin');
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }),
  );
});
