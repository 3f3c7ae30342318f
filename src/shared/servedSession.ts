/**
 * How a page served by `winnow serve` proves its session on API calls: the server hands it the
 * session's key in the redirect's `#session=` fragment, and the page sends it back in this header.
 */
export const SESSION_KEY_HEADER = 'x-winnow-session';
export const SESSION_KEY_PARAM = 'session';
