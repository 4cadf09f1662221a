/**
 * Runs at most `concurrency` tasks at a time and remembers the first failure: once a task has
 * failed, tasks not yet started are skipped, and `settle()` throws that failure after every
 * started task has ended (so no request is left running behind a failed round).
 */
export class TaskLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly started: Promise<void>[] = [];
  private failure?: { error: unknown };

  constructor(private readonly concurrency: number) {
    if (!(concurrency >= 1))
      throw new Error(`concurrency must be at least 1, got ${concurrency}`);
  }

  /** True once a task has failed: long loops stop early. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Queues a task; its failure is kept for `settle()`, never thrown here. */
  add(task: () => Promise<void>): void {
    this.started.push(this.run(task));
  }

  /**
   * Runs a task as soon as a slot is free; resolves with its result. An `urgent` task goes
   * before those already waiting (a request whose answer starts more work).
   */
  async slot<T>(task: () => Promise<T>, urgent = false): Promise<T> {
    if (this.active >= this.concurrency) {
      // A task that ends hands its slot over, so `active` stays as it is.
      await new Promise<void>(resolve =>
        urgent ? this.waiting.unshift(resolve) : this.waiting.push(resolve),
      );
    } else {
      this.active += 1;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }

  /** Waits for every task added so far (and any they add), then throws the first failure. */
  async settle(): Promise<void> {
    for (let done = 0; done < this.started.length; ) {
      const batch = this.started.slice(done);
      done = this.started.length;
      await Promise.all(batch);
    }
    if (this.failure) throw this.failure.error;
  }

  private async run(task: () => Promise<void>): Promise<void> {
    if (this.failure) return;
    try {
      await task();
    } catch (error) {
      this.failure ??= { error };
    }
  }
}
