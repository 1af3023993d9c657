using System.Diagnostics;
using MiniRedis.Execution;

namespace MiniRedis.Persistence.Dataset;

/// <summary>
/// Work over the whole dataset that runs on the executor thread in slices of a few milliseconds, so
/// connections are served between them: the start-up loads (<c>RdbLoading</c>, <c>AofLoader</c>) and
/// the snapshot walk under BGSAVE and the AOF rewrite (<c>KeyspaceSnapshot</c>). A subclass does one
/// slice in <see cref="Slice"/>, asking <see cref="Expired"/> every few hundred items; the base
/// schedules the next slice after the round's replies, or waits for <see cref="Continue"/> when the
/// job paused (a walk waiting for its writer thread). A job that gives way to clients (the snapshot
/// walk, which runs while clients are served) ends its slice early once their batches are queued,
/// after a minimum that keeps it going: clients wait for at most that, not the whole slice.
/// </summary>
public abstract class SlicedJob
{
    readonly Executor _executor;
    readonly long _sliceTicks;
    readonly long _minimumTicks;
    readonly Action _runSlice;

    /// <param name="executor">The executor whose rounds the slices follow.</param>
    /// <param name="sliceBudget">A slice's time.</param>
    /// <param name="givesWayAfter">When set, a slice ends once clients' work is queued and this much of it has run (<see cref="Expired"/>).</param>
    protected SlicedJob(Executor executor, TimeSpan sliceBudget, TimeSpan? givesWayAfter = null)
    {
        _executor = executor;
        _sliceTicks = Ticks(sliceBudget);
        _minimumTicks = givesWayAfter is { } minimum ? Ticks(minimum) : _sliceTicks;
        _runSlice = RunSlice;
    }

    static long Ticks(TimeSpan time) => (long)(time.TotalSeconds * Stopwatch.Frequency);

    /// <summary>
    /// One slice, on the executor: works until <paramref name="deadline"/> (Stopwatch ticks). True to
    /// go on in a later round; false when the job ended or paused (then <see cref="Continue"/> resumes it).
    /// </summary>
    protected abstract bool Slice(long deadline);

    /// <summary>Whether the slice ending at <paramref name="deadline"/> has used its time (also for the loops a job drives, as the RDB key loader).</summary>
    public static bool Expired(long deadline) => Stopwatch.GetTimestamp() > deadline;

    /// <summary>Whether this job's slice ending at <paramref name="deadline"/> should end: its time is used, or it gives way to clients who are waiting.</summary>
    protected bool SliceOver(long deadline)
    {
        long now = Stopwatch.GetTimestamp();
        return now > deadline || (now > deadline - _sliceTicks + _minimumTicks && _executor.WorkWaiting);
    }

    /// <summary>Runs the first slice, or the next one of a paused job, in a following executor round (any thread).</summary>
    protected void Continue() => _executor.Post(_runSlice);

    void RunSlice()
    {
        // After this round's replies: a re-posted slice would run in the same round, slice after
        // slice, holding back the replies (-LOADING ones too) until the round's bound.
        if (Slice(Stopwatch.GetTimestamp() + _sliceTicks)) _executor.RunAfterReplies(_runSlice);
    }
}
