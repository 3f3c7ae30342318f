/**
 * An error a user can act on: `message` says what is wrong (naming the file, class or setting),
 * `fix` says what to do about it. The CLI prints both and exits non-zero; the API returns both.
 */
export class WinnowError extends Error {
  readonly fix: string | undefined;

  constructor(message: string, fix?: string) {
    super(message);
    this.name = 'WinnowError';
    this.fix = fix;
  }
}
