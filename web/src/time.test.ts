import { describe, expect, it } from 'vitest';

// formatTime lives in the i18n module, which touches localStorage only inside the provider.
import { formatTime } from './i18n';

describe('formatTime', () => {
  it('shows UTC with Z', () => {
    expect(formatTime('2026-11-22T10:56:45Z', 'UTC')).toBe('2026-11-22 10:56:45Z');
  });
  it('shows JST (+9 h) across midnight', () => {
    expect(formatTime('2026-11-22T20:00:00+00:00', 'JST')).toBe('2026-11-23 05:00:00 JST');
  });
  it('tolerates missing values', () => {
    expect(formatTime(null, 'UTC')).toBe('—');
  });
});
