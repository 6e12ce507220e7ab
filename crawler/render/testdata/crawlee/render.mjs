// Crawlee peer for the rendering benchmark: PlaywrightCrawler driving the
// same Chromium as trawl (executablePath), C pages at once, same-hostname
// links, images/fonts/media blocked like trawl's default. Prints
// {"pages", "errors"} as JSON on stdout.
//
//     node render.mjs --url http://127.0.0.1:8080/ -c 4 --browser /usr/bin/chromium
import { PlaywrightCrawler, Configuration, log } from 'crawlee';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
	const i = args.indexOf(name);
	return i >= 0 ? args[i + 1] : dflt;
};
const url = opt('--url');
const c = Number(opt('-c', '4'));
const browser = opt('--browser', '/usr/bin/chromium');
if (!url) {
	console.error('usage: node render.mjs --url URL [-c N] [--browser PATH]');
	process.exit(2);
}
log.setLevel(log.LEVELS.WARNING);

let pages = 0;
let errors = 0;
const crawler = new PlaywrightCrawler(
	{
		minConcurrency: c,
		maxConcurrency: c,
		maxRequestRetries: 0,
		headless: true,
		launchContext: {
			launchOptions: {
				executablePath: browser,
				args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
			},
		},
		preNavigationHooks: [
			async ({ page }) => {
				await page.route('**/*', (route) => {
					const t = route.request().resourceType();
					return t === 'image' || t === 'font' || t === 'media' ? route.abort() : route.continue();
				});
			},
		],
		async requestHandler({ page, enqueueLinks }) {
			await page.waitForLoadState('networkidle');
			await page.locator('h1.name').textContent();
			pages++;
			await enqueueLinks({ strategy: 'same-hostname' });
		},
		failedRequestHandler() {
			errors++;
		},
	},
	new Configuration({ persistStorage: false, purgeOnStart: true }),
);
await crawler.run([url]);
console.log(JSON.stringify({ pages, errors }));
