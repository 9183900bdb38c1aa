import { describe, expect, it } from 'vitest';
import { parseQueueUrl, redactQueueUrl } from '../../main/queue/queue-url.ts';
import { InvalidOptionError } from '../../main/errors.ts';

describe('queue URLs', () => {
  it('redacts the password (and a query string) and keeps host, port, user and database', () => {
    expect(redactQueueUrl('redis://:s3cret@10.0.0.5:6379/2')).toBe('redis://:***@10.0.0.5:6379/2');
    expect(redactQueueUrl('rediss://alice:p%40ss@redis.internal:6380')).toBe('rediss://alice:***@redis.internal:6380');
    expect(redactQueueUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactQueueUrl('redis://h:1?password=x')).toBe('redis://h:1?***');
    expect(redactQueueUrl('not a url :hunter2@host')).not.toContain('hunter2');
  });

  it('accepts redis:// and rediss:// only, and never echoes the password in the error', () => {
    expect(parseQueueUrl('rediss://:pw@h:6380/1').tls).toBe(true);
    expect(parseQueueUrl('redis://h:6379').tls).toBe(false);
    for (const bad of ['http://:topsecret@h:80', 'redis://:topsecret@h:6379/db1', 'topsecret']) {
      let err: unknown;
      try {
        parseQueueUrl(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as Error).message).not.toContain('topsecret');
    }
  });
});
