using MiniRedis.Data;

namespace MiniRedis.Execution;

/// <summary>What CLIENT PAUSE holds back: commands that may write (WRITE) or every command (ALL).</summary>
public enum PauseMode { None, Write, All }

/// <summary>
/// CLIENT PAUSE / UNPAUSE (Redis's pauseClients): until the deadline, the commands the mode covers wait
/// with their client (Redis's BLOCKED_POSTPONE) and run in arrival order once the pause ends. While
/// paused, keys are not expired (a read sees an expired key as missing but it stays), so nothing is
/// written behind the paused clients' back. Monitors are never paused, as Redis never pauses replicas.
/// </summary>
public sealed class ClientPause
{
    readonly List<ClientSession> _postponed = [];
    readonly Keyspace _keyspace;

    public ClientPause(Keyspace keyspace) => _keyspace = keyspace;

    public PauseMode Mode { get; private set; }

    /// <summary>
    /// FAILOVER holds writes until it ends (Redis's PAUSE_DURING_FAILOVER), apart from CLIENT PAUSE:
    /// CLIENT UNPAUSE does not lift it, nor its end the client's pause.
    /// </summary>
    public bool HoldsWritesForFailover { get; set; }

    /// <summary>What is held now: the client's pause, or at least writes during a failover.</summary>
    PauseMode Effective => HoldsWritesForFailover && Mode < PauseMode.Write ? PauseMode.Write : Mode;

    /// <summary>When the pause ends (unix ms).</summary>
    public long EndMs { get; private set; }

    public int PostponedCount => _postponed.Count;

    /// <summary>A pause never weakens one in force: the stricter mode and the later end win.</summary>
    public void Pause(PauseMode mode, long endMs)
    {
        if (mode > Mode) Mode = mode;
        if (endMs > EndMs) EndMs = endMs;
        _keyspace.ExpiryPaused = true;
    }

    /// <summary>
    /// Whether <paramref name="command"/> of <paramref name="client"/> must wait now. <paramref name="flags"/>
    /// are those it is checked with: a script's or function's declared ones for EVAL and FCALL (Redis's
    /// getCommandFlags), so one declared no-writes runs during a write pause. An EXEC waits when a
    /// command it queued may replicate, by the flags it was queued with.
    /// </summary>
    public bool Holds(ClientSession client, CommandDef command, CommandFlags flags)
    {
        var mode = Effective;
        if (mode == PauseMode.None || client.Monitor) return false;
        if (mode == PauseMode.All) return true;
        return MayReplicate(flags) || (command.Name == "exec" && MayReplicate(client.QueuedFlags));
    }

    /// <summary>Redis's is_may_replicate_command: a write, or a command flagged may_replicate.</summary>
    public static bool MayReplicate(CommandFlags flags) => (flags & (CommandFlags.Write | CommandFlags.MayReplicate)) != 0;

    internal void Postpone(ClientSession client)
    {
        client.Postponed = true;
        _postponed.Add(client);
    }

    internal void Forget(ClientSession client)
    {
        if (!client.Postponed) return;
        client.Postponed = false;
        _postponed.Remove(client);
    }

    /// <summary>CLIENT UNPAUSE: commands run again at once; the held clients resume after this round's commands.</summary>
    public void Unpause()
    {
        Mode = PauseMode.None;
        EndMs = 0;
        _keyspace.ExpiryPaused = false;
    }

    /// <summary>Milliseconds until held clients may resume (0: now), or -1 when none wait and no pause is in force.</summary>
    internal long MillisecondsToResume(long nowMs)
    {
        if (Mode != PauseMode.None) return Math.Max(0, EndMs - nowMs);
        // A failover's hold has no deadline here: its end releases the held clients at the next round.
        return _postponed.Count > 0 && !HoldsWritesForFailover ? 0 : -1;
    }

    /// <summary>Ends the pause if its time has come; then hands over the held clients, oldest first.</summary>
    internal List<ClientSession>? TakeResumable(long nowMs)
    {
        if (Mode != PauseMode.None && EndMs <= nowMs) Unpause();
        if (Effective != PauseMode.None || _postponed.Count == 0) return null;
        var resumed = new List<ClientSession>(_postponed);
        _postponed.Clear();
        foreach (var client in resumed) client.Postponed = false;
        return resumed;
    }
}
