/** Every failure to read or write a `.pth` file is a PthError whose message starts with the file name. */
export class PthError extends Error {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.name = 'PthError';
    this.file = file;
  }
}

export function hex(byte: number): string {
  return '0x' + byte.toString(16).padStart(2, '0');
}
