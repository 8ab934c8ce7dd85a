// Pod logs are stored line by line; a process writes in arbitrary chunks. Whole lines only, so a JSON
// document split across two reads stays one document.
export class LineBuffer {
  private rest = '';

  constructor(private readonly emit: (lines: string) => void) {}

  push(chunk: string): void {
    const text = this.rest + chunk;
    const cut = text.lastIndexOf('\n');
    if (cut < 0) {
      this.rest = text;
      return;
    }
    this.rest = text.slice(cut + 1);
    this.emit(text.slice(0, cut + 1));
  }

  flush(): void {
    if (this.rest) this.emit(`${this.rest}\n`);
    this.rest = '';
  }
}
