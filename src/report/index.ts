// Report writers every command shares: RGB images as PNG files and HTML pages of images (the
// results page of `test`; the training page builds on the same pieces). Written atomically.
export { escapeHtml, imageRow, relativeUrl, renderPage, type PageImage, type PageShell } from './html.js';
export { checkRgb, savePng } from './png.js';
export { renderResultsPage, resultsPage, type ResultRow, type ResultsPageOptions } from './results-page.js';
