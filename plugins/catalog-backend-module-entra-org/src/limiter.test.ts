import { TaskLimiter } from './limiter';

const tick = () => new Promise<void>(r => setImmediate(r));

describe('TaskLimiter', () => {
  it('never runs more tasks at once than allowed, and runs them all', async () => {
    const limiter = new TaskLimiter(3);
    const seen = { running: 0, most: 0, done: 0 };
    const task = async () => {
      seen.running += 1;
      seen.most = Math.max(seen.most, seen.running);
      await tick();
      seen.running -= 1;
      seen.done += 1;
    };
    for (let i = 0; i < 20; i++) limiter.add(() => limiter.slot(task));
    await limiter.settle();
    expect(seen.most).toBe(3);
    expect(seen.done).toBe(20);
  });

  it('lets an urgent task go before those already waiting', async () => {
    const limiter = new TaskLimiter(1);
    const order: string[] = [];
    let release!: () => void;
    const first = limiter.slot(() =>
      new Promise<void>(r => (release = r)).then(() => order.push('a')),
    );
    const normal = limiter.slot(async () => order.push('normal'));
    const urgent = limiter.slot(async () => order.push('urgent'), true);
    release();
    await Promise.all([first, normal, urgent]);
    expect(order).toEqual(['a', 'urgent', 'normal']);
  });

  it('keeps the first failure, skips tasks not yet started, and waits for those running', async () => {
    const limiter = new TaskLimiter(1);
    let finishedAfterFailure = false;
    limiter.add(() => limiter.slot(() => Promise.reject(new Error('first'))));
    limiter.add(async () => {
      await tick();
      finishedAfterFailure = true;
      throw new Error('second');
    });
    await tick();
    let skipped = true;
    limiter.add(async () => {
      skipped = false;
    });
    await expect(limiter.settle()).rejects.toThrow('first');
    expect(limiter.failed).toBe(true);
    expect(finishedAfterFailure).toBe(true);
    expect(skipped).toBe(true);
  });

  it('waits for tasks that tasks add', async () => {
    const limiter = new TaskLimiter(2);
    const seen: number[] = [];
    limiter.add(async () => {
      await tick();
      limiter.add(async () => {
        await tick();
        seen.push(2);
      });
      seen.push(1);
    });
    await limiter.settle();
    expect(seen).toEqual([1, 2]);
  });
});
