using System.Diagnostics;
using MiniRedis.Execution;

namespace MiniRedis.Persistence.Dataset;

/// <summary>
/// Work over the whole dataset that runs on the executor thread in slices of a few milliseconds, so
/// connections are served between them: the start-up loads (<c>RdbLoading</c>, <c>AofLoader</c>) and
/// the snapshot walk under BGSAVE and the AOF rewrite (<c>KeyspaceSnapshot</c>). A subclass does one
/// slice in <see cref="Slice"/>, asking <see cref="Expired"/> every few hundred items; the base
/// schedules the next slice after the round's replies, or waits for <see cref="Continue"/> when the
/// job paused (a walk waiting for its writer thread).
/// </summary>
public abstract class SlicedJob
{
    readonly Executor _executor;
    readonly long _sliceTicks;
    readonly Action _runSlice;

    protected SlicedJob(Executor executor, TimeSpan sliceBudget)
    {
        _executor = executor;
        _sliceTicks = (long)(sliceBudget.TotalSeconds * Stopwatch.Frequency);
        _runSlice = RunSlice;
    }

    /// <summary>
    /// One slice, on the executor: works until <paramref name="deadline"/> (Stopwatch ticks). True to
    /// go on in a later round; false when the job ended or paused (then <see cref="Continue"/> resumes it).
    /// </summary>
    protected abstract bool Slice(long deadline);

    /// <summary>Whether the slice ending at <paramref name="deadline"/> has used its time (also for the loops a job drives, as the RDB key loader).</summary>
    public static bool Expired(long deadline) => Stopwatch.GetTimestamp() > deadline;

    /// <summary>Runs the first slice, or the next one of a paused job, in a following executor round (any thread).</summary>
    protected void Continue() => _executor.Post(_runSlice);

    void RunSlice()
    {
        // After this round's replies: a re-posted slice would run in the same round, slice after
        // slice, holding back the replies (-LOADING ones too) until the round's bound.
        if (Slice(Stopwatch.GetTimestamp() + _sliceTicks)) _executor.RunAfterReplies(_runSlice);
    }
}
