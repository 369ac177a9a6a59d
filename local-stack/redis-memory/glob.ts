// Redis's glob matcher (stringmatchlen) for KEYS and SCAN MATCH: *, ?, [abc], [^a-z], \x.
// Works on latin1 strings so every byte is one character.

function matchClass(
  pattern: string,
  start: number,
  char: string,
): { matched: boolean; end: number } {
  let i = start;
  const negate = pattern[i] === '^';
  if (negate) i++;
  let matched = false;
  while (i < pattern.length && pattern[i] !== ']') {
    if (pattern[i] === '\\' && i + 1 < pattern.length) {
      i++;
      if (pattern[i] === char) matched = true;
    } else if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
      let low = pattern[i] as string;
      let high = pattern[i + 2] as string;
      if (low > high) [low, high] = [high, low];
      if (char >= low && char <= high) matched = true;
      i += 2;
    } else if (pattern[i] === char) {
      matched = true;
    }
    i++;
  }
  return { matched: negate ? !matched : matched, end: i };
}

function matchFrom(pattern: string, p: number, text: string, t: number): boolean {
  while (p < pattern.length) {
    const token = pattern[p];
    if (token === '*') {
      while (pattern[p + 1] === '*') p++;
      if (p + 1 === pattern.length) return true;
      for (let from = t; from <= text.length; from++) {
        if (matchFrom(pattern, p + 1, text, from)) return true;
      }
      return false;
    }
    if (t >= text.length) return false;
    const char = text[t] as string;
    if (token === '[') {
      const { matched, end } = matchClass(pattern, p + 1, char);
      if (!matched) return false;
      p = end;
    } else if (token === '\\' && p + 1 < pattern.length) {
      p++;
      if (pattern[p] !== char) return false;
    } else if (token !== '?' && token !== char) {
      return false;
    }
    p++;
    t++;
  }
  return t === text.length;
}

export function globMatch(pattern: string, text: string): boolean {
  return matchFrom(pattern, 0, text, 0);
}
