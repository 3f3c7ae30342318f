import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium, headless, with everything that would reach the network switched off (this
 * machine's network is closed, and Chromium's background connections only produce noise).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
