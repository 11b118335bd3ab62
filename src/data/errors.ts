/** A problem with the data on disk: the message says which file(s) and what to do. */
export class DataError extends Error {
  constructor(message: string, readonly files: readonly string[] = []) {
    super(message);
    this.name = 'DataError';
  }
}
