using MiniRedis.Execution;
using MiniRedis.Persistence.Dataset;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// A background job in slices that gives way to clients (<see cref="SlicedJob"/>, as the snapshot walk
/// does) ends its slice once work is queued, instead of holding it back for the slice's whole time,
/// and its slices run on the executor thread.
/// </summary>
[Trait("Category", "Unit")]
public sealed class SlicedJobTests
{
    /// <summary>One slice that would last a minute: it runs until <see cref="SlicedJob.SliceOver"/> says stop.</summary>
    sealed class LongSlice(Executor executor) : SlicedJob(executor, TimeSpan.FromMinutes(1), givesWayAfter: TimeSpan.Zero), IDisposable
    {
        public readonly ManualResetEventSlim Started = new();
        public readonly TaskCompletionSource<(bool BeforeDeadline, string? Thread)> Ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Begin() => Continue();

        public void Dispose() => Started.Dispose();

        protected override bool Slice(long deadline)
        {
            Started.Set();
            while (!SliceOver(deadline)) Thread.SpinWait(100);
            Ended.SetResult((System.Diagnostics.Stopwatch.GetTimestamp() < deadline, Thread.CurrentThread.Name));
            return false;
        }
    }

    [Fact]
    public async Task A_slice_that_gives_way_ends_when_work_is_queued_and_that_work_runs()
    {
        var server = InProcessClient.StartServer();
        try
        {
            using var job = new LongSlice(server.Executor);
            job.Begin();
            Assert.True(job.Started.Wait(Wait.DefaultLimit));
            // Queued while the slice runs: the slice ends for it, long before its minute is up.
            var served = server.Executor.InvokeAsync(() => "served");
            var (beforeDeadline, thread) = await job.Ended.Task.WaitAsync(Wait.DefaultLimit);
            Assert.True(beforeDeadline);
            Assert.Equal("miniredis-executor", thread);
            Assert.Equal("served", await served.WaitAsync(Wait.DefaultLimit));
        }
        finally
        {
            server.Stop();
        }
    }
}
