using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Data;
using MiniRedis.Observability;
using MiniRedis.Protocol;

namespace MiniRedis.Execution;

/// <summary>
/// The one owner of the keyspace, as Redis's event loop is. Connections hand it whole parsed
/// batches; it runs every queued batch in order (one round), lets the propagation sinks flush
/// (group commit), then sends the round's replies. Between rounds it runs the cron (active
/// expiry, idle timeouts, stats) <c>hz</c> times a second.
/// The executor is a role, held by one thread at a time (<see cref="_role"/>): a connection that
/// submits a batch while no one holds it runs the round itself, on its socket thread, so a request
/// costs no wake-up of another thread (that hop was most of the CPU per request at pipeline 1).
/// The executor thread takes the role for what must not wait for a client: timers, posted work,
/// background slices, and scripts (a busy script serves other clients, whose reads need the socket
/// thread free), which a socket thread hands over to it.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "_wake lives as long as the server and other threads may Set it after Stop; it makes no wait handle unless asked, so it is never disposed.")]
public sealed class Executor
{
    readonly ExecutionHost _server;
    readonly WorkQueue _queue = new();
    // No spin before it sleeps: it sleeps until the next timer (the cron's 100 ms), and its spin yielded the CPU ~50 times a wake-up.
    readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    readonly List<ClientSession> _roundReplies = [];
    readonly List<Action> _afterReplies = [];
    // Work a busy script's serving set aside (posted actions, the script caller's commands): it runs first once the script ends.
    readonly Queue<WorkItem> _heldWhileBusy = new();
    // The context commands run in while a script is busy; the script's own stays as it was.
    readonly CommandContext _busyContext;
    // Clients released by CLIENT UNBLOCK or the end of a pause: their pipelines continue after the round's commands.
    readonly List<ClientSession> _released = [];
    // Sessions stopped before a script command on a socket thread; the executor thread runs them on.
    readonly List<ClientSession> _handedOver = [];
    CommandContext _context;
    readonly Thread _thread;
    // Whether a thread holds the executor role, or it is taken for good (stopped); the managed id of the holder.
    const int RoleFree = 0, RoleHeld = 1, RoleStopped = 2;
    int _role;
    int _roleThread;
    bool _onExecutorThread;
    bool _servingReadyKeys;
    volatile bool _stopping;
    long _nextCronTicks;
    // When the next timer is due (Stopwatch ticks), as of the last round, and until when the executor thread sleeps.
    long _nextTimerTicks;
    long _sleepUntilTicks = long.MaxValue;
    // While a batch runs: the last clock reading (DateTime ticks), the batch's start or its last command's
    // end, which the next command takes as its start; 0 outside a batch (a command then reads the clock).
    long _clockTicks;

    /// <summary>
    /// A batch or an action; <paramref name="AnyThread"/> when a socket thread may run it inline. A one-command batch
    /// carries its command as found when it was queued (<paramref name="Command"/>: its definition and its first key's hash).
    /// </summary>
    readonly record struct WorkItem(ClientSession? Session, CommandBatch? Batch, Action? Action, bool AnyThread, CommandDef? Command = null, uint KeyHash = 0);

    /// <summary>
    /// The queue of work from every thread, under a lock. ConcurrentQueue was here: its TryPeek, which a
    /// socket thread needs (an executor-thread item stays first in line), marks the segment preserved for
    /// observation, so the next enqueue allocated a new segment; a request at pipeline 1 peeks every round.
    /// <see cref="IsEmpty"/> reads a count without the lock; the count changes by interlocked operations
    /// (full fences), which <see cref="LeaveRole"/>'s check against a concurrent enqueue relies on.
    /// </summary>
    sealed class WorkQueue
    {
        readonly Queue<WorkItem> _items = new();
        int _count;

        public bool IsEmpty => Volatile.Read(ref _count) == 0;

        public void Enqueue(WorkItem item)
        {
            lock (_items)
            {
                _items.Enqueue(item);
                Interlocked.Increment(ref _count);
            }
        }

        /// <summary>The next item; with <paramref name="anyThreadOnly"/>, none when it is the executor thread's.</summary>
        public bool TryDequeue(out WorkItem item, bool anyThreadOnly)
        {
            lock (_items)
            {
                if (!_items.TryPeek(out item) || (anyThreadOnly && !item.AnyThread)) return false;
                _items.Dequeue();
                Interlocked.Decrement(ref _count);
                return true;
            }
        }

        /// <summary>
        /// Copies the commands of the first queued batches that hold one command each (clients at pipeline 1), as their
        /// items found them, into <paramref name="commands"/>, those of sessions on the first one's database; none unless two wait.
        /// </summary>
        public int OneCommandBatches(LookedUp[] commands, out Database? db)
        {
            db = null;
            int count = 0;
            lock (_items)
            {
                if (_items.Count < 2) return 0;
                foreach (var item in _items)
                {
                    if (count == commands.Length) break;
                    if (item.Batch is not { Count: 1 } batch || item.Session is not { } session) continue;
                    db ??= session.Db;
                    if (session.Db == db) commands[count++] = new LookedUp(batch[0], item.Command, item.KeyHash);
                }
            }
            return count;
        }

        public bool NextIsAnyThread
        {
            get
            {
                lock (_items) return _items.TryPeek(out var item) && item.AnyThread;
            }
        }
    }

    internal Executor(ExecutionHost server)
    {
        _server = server;
        _context = new CommandContext(server);
        _busyContext = new CommandContext(server);
        _thread = new Thread(Run) { Name = "miniredis-executor", IsBackground = true };
    }

    /// <summary>True while a client's command runs; records made outside one (active expiry) end their unit at once.</summary>
    public bool InCommand { get; private set; }

    internal void Start() => _thread.Start();

    internal void Stop()
    {
        _stopping = true;
        _wake.Set();
        if (Thread.CurrentThread != _thread) _thread.Join();
        // No socket thread may start a round after this: the role is taken for good once the one running
        // ends (by its holder's LeaveRole when that is this thread). Stopping again finds it so.
        if (Volatile.Read(ref _roleThread) == Environment.CurrentManagedThreadId) return;
        while (Interlocked.CompareExchange(ref _role, RoleStopped, RoleFree) == RoleHeld) Thread.Sleep(1);
    }

    /// <summary>
    /// From a connection's socket thread: queues a parsed batch of the client's commands, and runs the
    /// round at once on this thread when the executor is idle, whatever the batch's length. Handing
    /// pipelines to the executor thread let the socket thread parse the next batch meanwhile, but on two
    /// cores its wake-ups, spin and context switches cost more than that overlap won: pipelines of 16
    /// ran at 0.6-0.8x Redis's throughput that way and at 1.1x inline (benchmarks/RESULTS.md, session 6).
    /// </summary>
    public void Submit(ClientSession session, CommandBatch batch)
    {
        if (batch.Count != 1)
        {
            Enqueue(new WorkItem(session, batch, null, AnyThread: true));
            return;
        }
        // Found here once: the round's look-ahead and dispatch take the item's (the name's meaning never changes once serving).
        var command = LookedUp.Of(_server.Commands, batch[0]);
        if (t_deferring) BatchPrefetch.FirstKeyBucket(session.Db, command);
        Enqueue(new WorkItem(session, batch, null, AnyThread: true, command.Command, command.KeyHash));
    }

    /// <summary>From a connection's socket thread: a connection event (connect, disconnect), run as <see cref="Submit(ClientSession, CommandBatch)"/> runs a batch.</summary>
    public void Submit(Action connectionEvent) => Enqueue(new WorkItem(null, null, connectionEvent, AnyThread: true));

    /// <summary>Runs an action on the executor thread (background jobs, host requests).</summary>
    public void Post(Action action) => Enqueue(new WorkItem(null, null, action, AnyThread: false));

    /// <summary>
    /// From the executor thread: runs <paramref name="action"/> once this round's replies are sent.
    /// Background work in slices (a snapshot walk) uses it: one slice per round, and never between
    /// a command and its reply (a Post'ed slice would hold the replies of its round, and re-posting
    /// would let one round run slice after slice).
    /// </summary>
    public void RunAfterReplies(Action action) => _afterReplies.Add(action);

    /// <summary>Clients' batches (or posted work) are queued: a background slice that gives way to clients ends early.</summary>
    internal bool WorkWaiting => !_queue.IsEmpty;

    /// <summary>Runs a function on the executor thread and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<T> function)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try { done.SetResult(function()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }

    /// <summary>
    /// Queues the item; a socket thread's item runs here and now when the role is free. When it is held,
    /// the holder sees the item as it leaves (<see cref="LeaveRole"/>), so no one needs waking.
    /// </summary>
    void Enqueue(WorkItem item)
    {
        _queue.Enqueue(item);
        if (item.AnyThread && !t_deferring && TryTakeRole()) RunRoundsAndLeave();
        else if (!item.AnyThread || (!t_deferring && Volatile.Read(ref _role) == RoleFree)) _wake.Set();
    }

    void RunRoundsAndLeave()
    {
        // Further rounds only while socket threads' work is queued, and not forever: this thread has sockets to read.
        int rounds = 0;
        do RunRoundAndBackground();
        while (++rounds < 16 && _queue.NextIsAnyThread && !_stopping);
        LeaveRole();
    }

    /// <summary>Set on the event loop's thread while it reads the sockets one wait found ready: their batches only queue.</summary>
    [ThreadStatic]
    static bool t_deferring;

    /// <summary>
    /// From the event loop (<see cref="Networking.SocketEventLoop"/>), before it reads the ready sockets:
    /// the batches it submits wait, so <see cref="RunDeferred"/> runs them in one round whose replies
    /// leave together, as Redis runs what one wait read before it writes its clients.
    /// </summary>
    internal static void Defer() => t_deferring = true;

    /// <summary>Runs what the event loop queued, here, when no one holds the role (a holder runs it as it leaves).</summary>
    internal void RunDeferred()
    {
        t_deferring = false;
        if (_queue.NextIsAnyThread && TryTakeRole()) RunRoundsAndLeave();
    }

    bool TryTakeRole()
    {
        if (_stopping || Interlocked.CompareExchange(ref _role, RoleHeld, RoleFree) != RoleFree) return false;
        _roleThread = Environment.CurrentManagedThreadId;
        return true;
    }

    /// <summary>
    /// Gives the role back. Whatever is left to do (queued work, work only the executor thread does, a
    /// timer earlier than the one it sleeps for) wakes the executor thread; the check comes after the
    /// release (a full fence), so an item queued by a thread that found the role held is seen here.
    /// </summary>
    void LeaveRole()
    {
        bool executorThreadWork = _afterReplies.Count > 0 || _handedOver.Count > 0 || _heldWhileBusy.Count > 0 || _roundReplies.Count > 0;
        long nextTimer = NextTimerTicks();
        Volatile.Write(ref _nextTimerTicks, nextTimer);
        _roleThread = 0;
        Interlocked.Exchange(ref _role, _stopping ? RoleStopped : RoleFree);
        if (executorThreadWork || !_queue.IsEmpty || nextTimer < Volatile.Read(ref _sleepUntilTicks)) _wake.Set();
    }

    void Run()
    {
        while (!_stopping)
        {
            _wake.Reset();
            bool tookRole = TryTakeRole();
            if (tookRole)
            {
                _onExecutorThread = true;
                while (true)
                {
                    RunRoundAndBackground();
                    if (_stopping) break;
                    // No spin for more: a client's next batch runs on its own socket thread once the role is free.
                    if (_queue.IsEmpty && _afterReplies.Count == 0 && _heldWhileBusy.Count == 0 && _handedOver.Count == 0) break;
                }
                _onExecutorThread = false;
                LeaveRole();
            }
            // Sleep until the next timer, or until a holder of the role wakes us (LeaveRole compares
            // the timer it saw with ours after publishing its own: one of the two sees the other's).
            // A timer that is due while another thread holds the role is that holder's to run (each round
            // runs due timers): waiting at least 1 ms keeps this thread from spinning on it meanwhile (19% of
            // the server's CPU under pipelined XRANGE, session 8).
            long until = Volatile.Read(ref _nextTimerTicks);
            Interlocked.Exchange(ref _sleepUntilTicks, until);
            int wait = MillisecondsUntil(until);
            if (!tookRole && wait == 0) wait = 1;
            if (Volatile.Read(ref _nextTimerTicks) == until && !_stopping) _wake.Wait(wait);
        }
    }

    /// <summary>
    /// One round: the queued work, timeouts, released clients, the cron, then the replies, then (on the
    /// executor thread only) one background slice each. A socket thread leaves the slices to the executor
    /// thread (<see cref="LeaveRole"/> wakes it): a slice there would hold back the reads of its sockets,
    /// and a slice that gives way to queued clients (<see cref="WorkWaiting"/>) would never see them.
    /// </summary>
    void RunRoundAndBackground()
    {
        if (_onExecutorThread) ResumeHandedOver();
        RunRound();
        // Whatever ended a batch early, timers and the cron read the clock afresh.
        _clockTicks = 0;
        ServeTimedOutClients();
        ResumeReleasedClients();
        RunCronIfDue();
        FinishRound();
        if (_onExecutorThread) RunBackgroundSlices();
    }

    void RunBackgroundSlices()
    {
        // A slice may schedule its successor: that one waits for the next round.
        int count = _afterReplies.Count;
        for (int i = 0; i < count; i++) RunGuarded(_afterReplies[i]);
        _afterReplies.RemoveRange(0, count);
    }

    /// <summary>
    /// Posted work and background slices are server code, not a client's command: an exception there is
    /// a bug that costs that piece of work (logged), never the process and the data it holds.
    /// </summary>
    void RunGuarded(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            _server.Logger.LogError(e, "Unhandled exception in work posted to the executor; that work was abandoned, the server goes on");
        }
    }

    void RunRound()
    {
        PrefetchRound();
        // Bound the round so replies of early clients are not held back by a flood.
        for (int n = 0; n < 1024 && (_heldWhileBusy.TryDequeue(out var item) || TakeQueued(out item)); n++)
        {
            if (item.Action is not null) RunGuarded(item.Action);
            else ProcessBatch(item.Session!, item.Batch!, item.Command);
        }
    }

    /// <summary>
    /// Several clients' one-command batches wait (each at pipeline 1, read in one wake-up of the event loop):
    /// their keys start loading together before the first runs, as a pipelined batch's do (<see cref="BatchPrefetch"/>).
    /// </summary>
    void PrefetchRound()
    {
        int count = _queue.OneCommandBatches(BatchPrefetch.Commands, out var db);
        if (count > 0) BatchPrefetch.Keys(db!, count);
    }

    /// <summary>The next queued item, unless it is the executor thread's and this is a socket thread (it stays first in line).</summary>
    bool TakeQueued(out WorkItem item)
    {
        return _queue.TryDequeue(out item, anyThreadOnly: !_onExecutorThread);
    }

    /// <summary>
    /// A socket thread met a command that runs on the executor thread (<see cref="RunsOnExecutorThread"/>)
    /// and stopped the client's pipeline before it; the executor thread runs on from that command.
    /// </summary>
    void ResumeHandedOver()
    {
        for (int i = 0; i < _handedOver.Count; i++)
        {
            var session = _handedOver[i];
            session.AwaitsExecutorThread = false;
            if (!session.Closed) Resume(session);
        }
        _handedOver.Clear();
    }

    /// <summary>
    /// What must not run on a socket thread. A script may pass busy-reply-threshold and then serve other
    /// clients from inside (ServeWhileBusy), whose batches only arrive while the socket threads are free.
    /// MIGRATE waits for its connect, which completes through the socket engine's threads: a socket
    /// thread waiting for it starved them under load and MIGRATE answered a timeout.
    /// </summary>
    static bool RunsOnExecutorThread(CommandDef command, ClientSession session)
    {
        if (command.Name is "eval" or "evalsha" or "eval_ro" or "evalsha_ro" or "fcall" or "fcall_ro" or "migrate") return true;
        if (command.Name != "exec") return false;
        foreach (var (queued, _) in session.Queued)
        {
            if (RunsOnExecutorThread(queued, session)) return true;
        }
        return false;
    }

    /// <summary>
    /// Redis's processEventsWhileBlocked, for a script past busy-reply-threshold (called from its Lua
    /// hook, so inside the script's command): runs the queued client commands, where all but the
    /// allow-busy ones (SCRIPT KILL, SHUTDOWN NOSAVE...) get BUSY, and sends their replies at once.
    /// The script's state is set aside meanwhile: its context (command, caller, arguments), the clock
    /// it runs at, and its propagation unit (left open). Posted actions (connections, background
    /// slices that would see the script half done) and the caller's own commands wait for its end.
    /// </summary>
    internal void ServeWhileBusy(ClientSession caller)
    {
        var scriptContext = _context;
        bool inCommand = InCommand;
        long now = _server.Keyspace.NowMs;
        _context = _busyContext;
        try
        {
            for (int n = 0; n < 1024 && _queue.TryDequeue(out var item, anyThreadOnly: false); n++)
            {
                if (item.Action is not null || item.Session == caller) _heldWhileBusy.Enqueue(item);
                else ProcessBatch(item.Session!, item.Batch!, item.Command);
            }
            SendRoundReplies(except: caller);
        }
        finally
        {
            _context = scriptContext;
            InCommand = inCommand;
            _server.Keyspace.NowMs = now;
        }
    }

    /// <summary>Lets the propagation sinks write (group commit), then sends the round's replies.</summary>
    void FinishRound()
    {
        _server.Propagation.FlushSinks();
        _server.Tracking.BroadcastPending();
        SendRoundReplies(except: null);
    }

    /// <summary>
    /// Sends the replies the round's sessions hold, all but <paramref name="except"/>'s (a busy script's
    /// caller, whose reply is not done) and those holding only messages (<see cref="HoldsMessages"/>).
    /// Sessions a command answered go first, then those that only received something (pub/sub
    /// messages, invalidations, monitor lines), as Redis writes its pending clients newest first (a
    /// publisher after its subscribers): a pipelined publisher gets its replies, and sends its next
    /// commands, before the sends to its subscribers (each of which wakes a reader).
    /// </summary>
    void SendRoundReplies(ClientSession? except)
    {
        SendRoundReplies(except, answered: true);
        SendRoundReplies(except, answered: false);
    }

    /// <summary>One pass of <see cref="SendRoundReplies(ClientSession?)"/>: the sessions with completed batches, or the others.</summary>
    void SendRoundReplies(ClientSession? except, bool answered)
    {
        int kept = 0;
        for (int i = 0; i < _roundReplies.Count; i++)
        {
            var session = _roundReplies[i];
            if (session == except || (session.CompletedBatches > 0) != answered || HoldsMessages(session))
            {
                _roundReplies[kept++] = session;
                continue;
            }
            session.HeldRounds = 0;
            session.HasPendingReplies = false;
            int completed = session.CompletedBatches;
            session.CompletedBatches = 0;
            if (!session.Closed) session.Connection?.SendReplies(completed);
        }
        _roundReplies.RemoveRange(kept, _roundReplies.Count - kept);
    }

    const int MaxHeldRounds = 16;

    /// <summary>
    /// A session that only received messages this round (pub/sub, invalidations: no reply it waits
    /// for) keeps them for up to <see cref="MaxHeldRounds"/> rounds while more commands are queued,
    /// so one send carries the messages of many rounds, as Redis's event loop gathers them under load.
    /// </summary>
    bool HoldsMessages(ClientSession session) =>
        session.CompletedBatches == 0 && session.Blocked is null && !session.CloseAfterReply && !_queue.IsEmpty && ++session.HeldRounds < MaxHeldRounds;

    /// <summary>Has the session's output sent at the end of this round (also another session's: a published message, a monitor line).</summary>
    internal void MarkReplies(ClientSession session)
    {
        if (session.HasPendingReplies) return;
        session.HasPendingReplies = true;
        _roundReplies.Add(session);
    }

    /// <summary>
    /// Runs a client's batch as a round does (internal for the allocation probe of the tests); <paramref name="first"/>:
    /// a one-command batch's command, found as it was queued.
    /// </summary>
    internal void ProcessBatch(ClientSession session, CommandBatch batch, CommandDef? first = null)
    {
        // The later pipeline of a client that is blocked, held by a pause, or released but not yet resumed waits its turn.
        if (session.SuspendedBatch is not null || session.DeferredBatches.Count > 0)
        {
            session.DeferredBatches.Enqueue(batch);
            return;
        }
        RunBatchFrom(session, batch, 0, first);
    }

    void RunBatchFrom(ClientSession session, CommandBatch batch, int start, CommandDef? first = null)
    {
        _clockTicks = DateTime.UtcNow.Ticks;
        _server.Keyspace.SetNow(_clockTicks);
        session.LastInteractionMs = _server.Keyspace.NowMs;
        if (!session.Closed)
        {
            var found = new BatchCommands();
            found[0] = first;
            BatchPrefetch.Keys(_server.Commands, session.Db, batch, start, found);
            for (int i = start; i < batch.Count && !session.CloseAfterReply; i++)
            {
                var caller = _server.Tracking.BeforeCommand(session);
                long replyMark = session.Reply.Length;
                ProcessCommand(session, batch[i], i - start < BatchPrefetch.Window ? found[i - start] : null);
                bool postponed = session.Postponed || session.AwaitsExecutorThread;
                if (!postponed) ApplyReplyMode(session, replyMark);
                _server.Tracking.AfterCommand(session, batch[i][0], caller);
                if (postponed)
                {
                    // CLIENT PAUSE or a script on a socket thread: this command runs again, from the start, once the pause ends or on the executor thread.
                    session.SuspendedBatch = batch;
                    session.SuspendedIndex = i;
                    _clockTicks = 0;
                    return;
                }
                if (session.Blocked is not null)
                {
                    session.SuspendedBatch = batch;
                    session.SuspendedIndex = i + 1;
                    MarkReplies(session);
                    _clockTicks = 0;
                    return;
                }
            }
            if (batch.ProtocolError is not null && !session.CloseAfterReply)
            {
                var error = "ERR " + batch.ProtocolError;
                _server.Stats.CountError(error);
                session.Reply.Error(error);
                session.CloseAfterReply = true;
            }
        }
        _clockTicks = 0;
        session.CompletedBatches++;
        MarkReplies(session);
    }

    /// <summary>
    /// CLIENT REPLY: a command's reply is dropped while replies are OFF or for the command after SKIP
    /// (Redis's CLIENT_REPLY_OFF / CLIENT_REPLY_SKIP, checked when the reply is written, so CLIENT
    /// REPLY ON's own OK goes out). Then SKIP moves on to the next command.
    /// </summary>
    static void ApplyReplyMode(ClientSession session, long replyMark)
    {
        if (session.ReplyOff || session.ReplySkip) session.Reply.Truncate(replyMark);
        session.ReplySkip = session.ReplySkipNext;
        session.ReplySkipNext = false;
    }

    /// <summary>
    /// A blocked client's wait is over (served, timed out, CLIENT UNBLOCK) and its reply written after
    /// <paramref name="replyMark"/>: dropped under CLIENT REPLY OFF; then its pipeline continues.
    /// </summary>
    void FinishBlocked(ClientSession session, long replyMark)
    {
        EndWait(session, replyMark);
        Resume(session);
    }

    /// <summary>The wait's reply (after <paramref name="replyMark"/>) is dropped under CLIENT REPLY OFF, and the client leaves the blocked set.</summary>
    void EndWait(ClientSession session, long replyMark)
    {
        if (session.ReplyOff) session.Reply.Truncate(replyMark);
        _server.Blocked.Unblock(session);
    }

    /// <summary>Continues a client's pipeline after its blocking command was served or timed out, or a pause held it.</summary>
    void Resume(ClientSession session)
    {
        var batch = session.SuspendedBatch!;
        session.SuspendedBatch = null;
        RunBatchFrom(session, batch, session.SuspendedIndex);
        while (session.Blocked is null && !session.Postponed && session.DeferredBatches.TryDequeue(out var next)) RunBatchFrom(session, next, 0);
    }

    /// <summary>
    /// CLIENT UNBLOCK: ends a client's wait in a blocking command as its timeout would, or with Redis's
    /// UNBLOCKED error. False when the client is not waiting on keys (a client held by a pause is not:
    /// Redis 7.0.15 crashes there, later versions answer 0).
    /// </summary>
    internal bool UnblockClient(ClientSession session, bool withError)
    {
        if (session.Blocked is not { } state) return false;
        long replyMark = session.Reply.Length;
        if (withError)
        {
            const string error = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
            _server.Stats.CountError(error);
            session.Reply.Error(error);
        }
        else CommandContext.WriteTimeoutReply(session.Reply, state);
        EndWait(session, replyMark);
        // Not resumed here: its commands must not run inside the command that released it.
        _released.Add(session);
        return true;
    }

    /// <summary>
    /// Clients released during the round run on: those CLIENT UNBLOCK released, then, once CLIENT PAUSE
    /// ends (its deadline, or UNPAUSE), those it held, oldest first.
    /// </summary>
    void ResumeReleasedClients()
    {
        // The clock only while a pause is in force or holds clients: a round pays no clock read for it otherwise.
        var pause = _server.Pause;
        if ((pause.Mode != PauseMode.None || pause.PostponedCount > 0) && pause.TakeResumable(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) is { } held) _released.AddRange(held);
        // By index: a resumed client may release another.
        for (int i = 0; i < _released.Count; i++)
        {
            if (!_released[i].Closed) Resume(_released[i]);
        }
        _released.Clear();
    }

    /// <summary>Re-runs the commands of clients blocked on keys that were signalled, oldest client first.</summary>
    void ServeReadyKeys()
    {
        if (_servingReadyKeys) return;
        _servingReadyKeys = true;
        var blocked = _server.Blocked;
        while (blocked.HasReadyKeys)
        {
            foreach (var key in blocked.TakeReadyKeys())
            {
                foreach (var session in blocked.ClientsOn(key))
                {
                    if (session.Blocked is not { } state) continue;
                    long replyMark = session.Reply.Length;
                    _context.IsRetry = true;
                    _context.ReadyKey = key.Key;
                    RunUnit(state.Command, state.Args, session);
                    _context.IsRetry = false;
                    _context.ReadyKey = null;
                    if (_context.BlockedNow) continue;
                    FinishBlocked(session, replyMark);
                }
            }
        }
        _servingReadyKeys = false;
    }

    void ServeTimedOutClients()
    {
        var blocked = _server.Blocked;
        if (blocked.Count == 0) return;
        _server.Keyspace.SetNow(DateTime.UtcNow.Ticks);
        while (blocked.NextTimedOut(_server.Keyspace.NowMs) is { } session)
        {
            long replyMark = session.Reply.Length;
            CommandContext.WriteTimeoutReply(session.Reply, session.Blocked!);
            FinishBlocked(session, replyMark);
        }
    }

    /// <summary>Redis's processCommand: look up (unless the batch's look-ahead <paramref name="found"/> it), validate, queue inside MULTI, or call.</summary>
    internal unsafe void ProcessCommand(ClientSession session, ArgVector args, CommandDef? found = null)
    {
        var ctx = _context;
        ctx.Client = session;
        ctx.Args = args;
        ctx.Failed = false;

        var command = found ?? _server.Commands.Find(args[0]);
        if (command is null)
        {
            Reject(session, null, UnknownCommandError(args));
            return;
        }
        if (command.Subcommands is not null && args.Count >= 2)
        {
            var parentName = command.Name;
            var sub = command.Subcommands.GetValueOrDefault(Encoding.Latin1.GetString(args[1]));
            if (sub is null)
            {
                Reject(session, null, $"ERR unknown subcommand '{Truncate(ArgVector.CString(args[1]), 128)}'. Try {parentName.ToUpperInvariant()} HELP.");
                return;
            }
            command = sub;
        }
        session.LastCommand = command.Name;
        if (!command.ArityMatches(args.Count) || command.Handler == null)
        {
            Reject(session, command, $"ERR wrong number of arguments for '{command.Name}' command");
            return;
        }
        // Only admin commands can be protected: the common path pays one flag test.
        if ((command.Flags & CommandFlags.Admin) != 0 && ProtectedCommands.Refusal(_server.Config, session, command) is { } refusal)
        {
            Reject(session, command, refusal);
            return;
        }
        if (_server.RequiresAuth(session) && (command.Flags & CommandFlags.NoAuth) == 0)
        {
            Reject(session, command, "NOAUTH Authentication required.");
            return;
        }
        if (session.User is { AllowsEverything: false } user && _server.Acl.Deny(session, user, command, args, session.InMulti ? "multi" : "toplevel", _server.Keyspace.NowMs) is { } denial)
        {
            Reject(session, command, Security.AclStore.NoPermError(denial, command.Name));
            return;
        }
        var flags = command.FlagsFromScript ? _server.ScriptFlags.FlagsOf(command, args) : command.Flags;
        if (_server.Config.Maxmemory != 0 && _server.Evictor.StillOutOfMemoryBefore(args) && DeniedOutOfMemory(session, command, flags))
        {
            Reject(session, command, CommandContext.OomError);
            return;
        }
        bool write = (flags & CommandFlags.Write) != 0 || (command.Name == "exec" && (session.QueuedFlags & CommandFlags.Write) != 0);
        if ((write || command.Name == "ping") && _server.Persistence.WriteDeniedError is { } diskError)
        {
            Reject(session, command, diskError);
            return;
        }
        if (write && _server.Replication.WriteDeniedError(session) is { } replicationError)
        {
            Reject(session, command, replicationError);
            return;
        }
        if (session.IsSubscribed && !session.Reply.Resp3 && !AllowedWhileSubscribed(command))
        {
            Reject(session, command, $"ERR Can't execute '{command.Name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context");
            return;
        }
        if (_server.Replication.DeniesStaleData(session) && ((flags & CommandFlags.Stale) == 0 || (command.Name == "exec" && (session.QueuedMissingFlags & CommandFlags.Stale) != 0)))
        {
            Reject(session, command, CommandContext.MasterDownError);
            return;
        }
        if (_server.Keyspace.Loading && (command.Flags & CommandFlags.Loading) == 0)
        {
            Reject(session, command, "LOADING Redis is loading the dataset in memory");
            return;
        }
        if (_server.BusyScript.TimedOut && (command.Flags & CommandFlags.AllowBusy) == 0)
        {
            Reject(session, command, _server.BusyScript.BusyError);
            return;
        }
        // A monitor is a replica to Redis: it may not touch the keyspace, and a pause never holds it.
        if (session.Monitor && ((flags & CommandFlags.ReadOnly) != 0 || ClientPause.MayReplicate(flags)))
        {
            Reject(session, command, "ERR Replica can't interact with the keyspace");
            return;
        }
        if (_server.Pause.Holds(session, command, flags))
        {
            _server.Pause.Postpone(session);
            return;
        }
        if (session.InMulti && !IsTransactionControl(command))
        {
            if ((command.Flags & CommandFlags.NoMulti) != 0)
            {
                Reject(session, command, "ERR Command not allowed inside a transaction");
                return;
            }
            session.Queue(command, flags, args.Clone());
            session.Reply.SimpleString("QUEUED"u8);
            return;
        }
        if (!_onExecutorThread && RunsOnExecutorThread(command, session))
        {
            session.AwaitsExecutorThread = true;
            _handedOver.Add(session);
            return;
        }
        RunUnit(command, args, session);
        // While a script is busy, blocked clients wait for its end (their commands would run inside it).
        if (!_server.BusyScript.TimedOut) ServeReadyKeys();
    }

    /// <summary>One execution unit: the call, then its propagation records as one unit.</summary>
    void RunUnit(CommandDef command, ArgVector args, ClientSession session)
    {
        _context.BlockedNow = false;
        InCommand = true;
        Call(command, args, session);
        InCommand = false;
        // A busy script's unit stays open: the allow-busy commands run meanwhile write nothing.
        if (!_server.BusyScript.TimedOut) _server.Propagation.EndUnit();
    }

    /// <summary>
    /// processCommand's maxmemory step, second half: with memory still over, a deny-oom command is refused,
    /// as is an EXEC holding one and anything but EXEC/DISCARD/QUIT/RESET queued inside MULTI.
    /// </summary>
    static bool DeniedOutOfMemory(ClientSession session, CommandDef command, CommandFlags flags)
    {
        if ((flags & CommandFlags.DenyOom) != 0) return true;
        if (command.Name == "exec") return (session.QueuedFlags & CommandFlags.DenyOom) != 0;
        return session.InMulti && command.Name is not ("exec" or "discard" or "quit" or "reset");
    }

    /// <summary>
    /// Redis's call() after a client's command: its latency histogram, the latency monitor's command /
    /// fast-command event and the slow log. Allocates only on a command's first call (its histogram) and
    /// for a command slow enough to be logged.
    /// </summary>
    void RecordLatency(CommandDef command, ArgVector args, ulong redacted, long microseconds, ClientSession session)
    {
        if (_server.Config.LatencyTracking) (command.LatencyHistogram ??= new LatencyHistogram()).Record(microseconds * 1000);
        if ((command.Flags & CommandFlags.SkipSlowlog) != 0) return;
        var diagnostics = _server.Diagnostics;
        diagnostics.Latency.AddSampleIfNeeded((command.Flags & CommandFlags.Fast) != 0 ? LatencyEvents.FastCommand : LatencyEvents.Command, microseconds / 1000);
        if (diagnostics.SlowLog.IsSlow(microseconds))
            diagnostics.SlowLog.Push(args, redacted, microseconds, session.Connection?.RemoteAddress ?? "", session.Name ?? "");
    }

    /// <summary>What a RESP2 client in subscribed mode may still send (its replies are push-like arrays).</summary>
    static bool AllowedWhileSubscribed(CommandDef command)
        => command.Name is "ping" or "subscribe" or "ssubscribe" or "psubscribe" or "unsubscribe" or "sunsubscribe" or "punsubscribe" or "quit" or "reset";

    static bool IsTransactionControl(CommandDef command)
        => command.Name is "exec" or "discard" or "multi" or "watch" or "quit" or "reset";

    void Reject(ClientSession session, CommandDef? command, string error)
    {
        if (command is not null) command.RejectedCalls++;
        if (command?.Name == "exec")
        {
            // Redis aborts the transaction whatever made EXEC itself fail, and says why: its formatted
            // rejections carry no ERR there, its shared error objects keep their code (OOM, NOAUTH, ...).
            session.DiscardTransaction();
            error = "EXECABORT Transaction discarded because of: " + (error.StartsWith("ERR ", StringComparison.Ordinal) ? error[4..] : error);
        }
        else if (session.InMulti) session.DirtyExec = true;
        _server.Stats.CountError(error);
        session.Reply.Error(error);
    }

    static string UnknownCommandError(ArgVector args)
    {
        var details = new StringBuilder();
        for (int i = 1; i < args.Count && details.Length < 128; i++)
        {
            // The budget is what was written before this argument's opening quote, as in Redis's "'%.*s' ".
            int budget = 128 - details.Length;
            details.Append('\'').Append(Truncate(ArgVector.CString(args[i]), budget)).Append("' ");
        }
        return $"ERR unknown command '{Truncate(ArgVector.CString(args[0]), 128)}', with args beginning with: {details}";
    }

    static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    /// <summary>
    /// Redis's call(): runs the handler, accounts time and calls, and propagates the command's
    /// arguments when it changed the dataset and did not log its effect itself.
    /// </summary>
    internal unsafe void Call(CommandDef command, ArgVector args, ClientSession session)
    {
        var ctx = _context;
        ctx.Client = session;
        ctx.Args = args;
        ctx.Command = command;
        ctx.Failed = false;
        ctx.PropagationReplaced = false;
        long dirtyBefore = _server.Dirty;
        _server.Keyspace.LazyExpiry = _server.Replication.LazyExpiryFor(session, command.IsWrite);
        if (session.IsAofLoader)
        {
            // Like Redis, replayed commands are not timed or counted (INFO commandstats,
            // total_commands_processed); the loader keeps the clock once per slice. An exception
            // is left to the loader: it fails the load.
            command.Handler(ctx);
            _server.Keyspace.Settle();
        }
        else
        {
            // One wall-clock reading serves as the command's time and as the start of its duration, as
            // Redis's call() uses ustime() for both. Inside a batch that reading is the end of the command
            // before (read microseconds ago): one clock read per command instead of two.
            long start = _clockTicks != 0 ? _clockTicks : DateTime.UtcNow.Ticks;
            _server.Keyspace.SetNow(start);
            bool completed = RunHandler(command, session);
            _server.Keyspace.Settle();
            long end = DateTime.UtcNow.Ticks;
            if (_clockTicks != 0) _clockTicks = end;
            long microseconds = (end - start) / TimeSpan.TicksPerMicrosecond;
            command.Microseconds += microseconds;
            command.Calls++;
            if (ctx.Failed) command.FailedCalls++;
            _server.Stats.TotalCommandsProcessed++;
            // As Redis's call(): after the command (SELECT shows its new db), once (not when a blocked command is re-run).
            ulong redacted = ctx.TakeRedactedArgs();
            RecordLatency(command, args, redacted, microseconds, session);
            if (!ctx.IsRetry && (command.Flags & (CommandFlags.SkipMonitor | CommandFlags.Admin)) == 0) _server.Monitors.Feed(session, session.Db.Index, args, redacted);
            if (!completed) return;
        }
        if (_server.Dirty != dirtyBefore && !ctx.PropagationReplaced && command.IsWrite)
        {
            _server.Propagation.Add(session.Db.Index, args);
        }
    }

    /// <summary>
    /// The net under every client command (top level, inside EXEC, a blocked command's retry): an
    /// exception escaping a handler is a bug, and it costs only that command. Its partial reply is
    /// replaced by an error, and the records it had begun to propagate are dropped: a record may be
    /// half-built, and replaying a command that threw would throw again when the AOF loads. What it
    /// changed in memory before throwing stays; the log line says so. False when the handler threw.
    /// </summary>
    unsafe bool RunHandler(CommandDef command, ClientSession session)
    {
        var ctx = _context;
        long replyMark = session.Reply.Length;
        int recordMark = _server.Propagation.PendingRecords;
        try
        {
            command.Handler(ctx);
            if ((command.Flags & CommandFlags.ReadOnly) != 0) _server.Tracking.RememberKeys(session, command, ctx.Args);
            return true;
        }
        catch (Exception e)
        {
            session.Reply.Truncate(replyMark);
            _server.Propagation.DropRecordsFrom(recordMark);
            // A command that blocked before throwing is not waiting for anything any more.
            if (ctx.BlockedNow && !ctx.IsRetry && session.Blocked is not null) _server.Blocked.Unblock(session);
            ctx.BlockedNow = false;
            _server.Logger.LogError(e, "Unhandled exception in command '{Command}'; replied with an error, not propagated (changes it made before failing stay in memory)", command.Name);
            // EXEC's queued commands run through here with the same context: restore this command's view.
            ctx.Client = session;
            ctx.Command = command;
            ctx.Error($"ERR internal error executing '{command.Name}': {e.GetType().Name}");
            return false;
        }
    }

    void RunCronIfDue()
    {
        long now = Stopwatch.GetTimestamp();
        if (now < _nextCronTicks) return;
        _nextCronTicks = now + Stopwatch.Frequency / Math.Max(1, _server.Config.Hz);
        _server.Keyspace.SetNow(DateTime.UtcNow.Ticks);
        RunGuarded(_server.Cron);
        // Keys the cron expired may wake clients (a deleted stream ends XREADGROUP), as Redis's beforeSleep serves them.
        if (!_server.BusyScript.TimedOut) ServeReadyKeys();
    }

    /// <summary>When the executor next has timed work (Stopwatch ticks): the cron, a blocked client's timeout, the end of a pause.</summary>
    long NextTimerTicks()
    {
        long next = _nextCronTicks;
        if (_server.Blocked.Count == 0 && _server.Pause.Mode == PauseMode.None && _server.Pause.PostponedCount == 0) return next;
        long nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long ms = _server.Blocked.MillisecondsToNextDeadline(nowMs);
        long pauseEnd = _server.Pause.MillisecondsToResume(nowMs);
        if (ms < 0 || (pauseEnd >= 0 && pauseEnd < ms)) ms = pauseEnd;
        return ms < 0 ? next : Math.Min(next, Stopwatch.GetTimestamp() + ms * Stopwatch.Frequency / 1000);
    }

    static int MillisecondsUntil(long ticks)
    {
        long left = ticks - Stopwatch.GetTimestamp();
        return left <= 0 ? 0 : (int)Math.Min(int.MaxValue, left * 1000 / Stopwatch.Frequency + 1);
    }
}
