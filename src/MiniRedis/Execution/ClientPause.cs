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

    /// <summary>Whether <paramref name="command"/> of <paramref name="client"/> must wait now.</summary>
    public bool Holds(ClientSession client, CommandDef command)
    {
        var mode = Effective;
        if (mode == PauseMode.None || client.Monitor) return false;
        if (mode == PauseMode.All) return true;
        return MayReplicate(command) || (command.Name == "exec" && QueuedMayReplicate(client));
    }

    /// <summary>
    /// Redis's is_may_replicate_command: a write, or a command flagged may_replicate in Redis's command
    /// table. COMMAND INFO does not list that flag, so the table's metadata lacks it: these are the
    /// commands of 7.0 that carry it (a script without a shebang may write).
    /// </summary>
    public static bool MayReplicate(CommandDef command)
        => (command.Flags & (CommandFlags.Write | CommandFlags.MayReplicate)) != 0
           || command.Name is "eval" or "evalsha" or "fcall" or "publish" or "spublish" or "pfcount";

    static bool QueuedMayReplicate(ClientSession client)
    {
        foreach (var (queued, _) in client.Queued)
        {
            if (MayReplicate(queued)) return true;
        }
        return false;
    }

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
