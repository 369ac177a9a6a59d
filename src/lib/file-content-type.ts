// What a file is, judged by its bytes: the name and Content-Type a client sends only say what it
// claims to be. file-type's main entry reads buffers with Web APIs only, so it bundles for Workers.
// It is imported on first use: its evaluation would otherwise add to every isolate's start-up,
// and most requests never upload anything.

export interface DetectedType {
  mime: string;
  /** Without the dot: 'png', 'pdf'. */
  ext: string;
}

/** The type the bytes' signature shows, or undefined when they match no format file-type knows. */
export async function detectContentType(bytes: Uint8Array): Promise<DetectedType | undefined> {
  const { fileTypeFromBuffer } = await import('file-type');
  const found = await fileTypeFromBuffer(bytes);
  return found && { mime: found.mime, ext: found.ext };
}
