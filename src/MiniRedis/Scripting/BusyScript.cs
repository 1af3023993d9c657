using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Scripting;

/// <summary>
/// The script running now, as the rest of the server sees it: Redis's scriptRunCtx timing and kill
/// state (script.c's scriptInterrupt, scriptKill). A Lua state calls <see cref="InstallHook"/> once;
/// its hook asks <see cref="Interrupt"/> every 100,000 instructions. Past busy-reply-threshold the
/// script has timed out: other clients are served in busy mode (BUSY, except the allow-busy
/// commands such as SCRIPT KILL and SHUTDOWN NOSAVE) each time the hook runs, and a kill makes the
/// hook raise Redis's error in the script. EVAL and FCALL bracket their run with
/// <see cref="Begin"/> and <see cref="End"/>; SCRIPT KILL and FUNCTION KILL call <see cref="Kill"/>.
/// </summary>
public sealed unsafe class BusyScript : IBusyScript
{
    public const string EvalBusyError = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    public const string FunctionBusyError = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
    const string NotBusyError = "NOTBUSY No scripts in execution right now.";
    const string UnkillableError = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";

    readonly ExecutionHost _server;
    readonly GCHandle _self;
    long _startTimestamp;
    bool _running;
    bool _isEval;
    bool _wrote;
    bool _killed;
    string _name = "";
    ClientSession? _caller;
    ArgVector _callerArgs;

    internal BusyScript(ExecutionHost server)
    {
        _server = server;
        _self = GCHandle.Alloc(this);
    }

    /// <summary>True once the running script passed busy-reply-threshold: other clients get <see cref="BusyError"/>.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>What a refused command gets while the script is busy: it names the kill command of its kind.</summary>
    public string BusyError => _isEval ? EvalBusyError : FunctionBusyError;

    /// <summary>A script starts: its clock, its caller (whose later commands wait for it) and command, its name for the log.</summary>
    public void Begin(ClientSession caller, ArgVector callerArgs, string name, bool isEval)
    {
        _caller = caller;
        _callerArgs = callerArgs;
        _name = name;
        _isEval = isEval;
        _running = true;
        _wrote = false;
        _killed = false;
        TimedOut = false;
        _startTimestamp = Stopwatch.GetTimestamp();
    }

    public void End()
    {
        _running = false;
        TimedOut = false;
        _caller = null;
    }

    /// <summary>Redis's name for the running script: a function's own, "f_" and the SHA for EVAL's.</summary>
    string RunningName => _isEval ? "f_" + _name : _name;

    /// <summary>Redis's scriptCurrFunction, scriptGetCaller's argv and scriptRunDuration, for FUNCTION STATS; false when nothing runs.</summary>
    public bool TryGetRunning(out string name, out ArgVector command, out long durationMs)
    {
        name = RunningName;
        command = _callerArgs;
        durationMs = (long)Stopwatch.GetElapsedTime(_startTimestamp).TotalMilliseconds;
        return _running;
    }

    /// <summary>The script called a write command: from now on only SHUTDOWN NOSAVE can stop it (Redis's SCRIPT_WRITE_DIRTY).</summary>
    public void MarkWrite() => _wrote = true;

    /// <summary>The running script called a write command (Redis's SCRIPT_WRITE_DIRTY).</summary>
    public bool Wrote => _wrote;

    /// <summary>SCRIPT KILL (<paramref name="isEval"/>) or FUNCTION KILL: null when the script will stop, else the error to reply.</summary>
    public string? Kill(bool isEval)
    {
        if (!_running) return NotBusyError;
        if (_wrote) return UnkillableError;
        if (isEval != _isEval) return isEval ? FunctionBusyError : EvalBusyError;
        _killed = true;
        return null;
    }

    /// <summary>
    /// The hook's check (Redis's scriptInterrupt): once past busy-reply-threshold, serves the other
    /// clients; true when the script was killed and must stop.
    /// </summary>
    bool Interrupt()
    {
        if (!_running) return false;
        if (!TimedOut)
        {
            long elapsed = (long)Stopwatch.GetElapsedTime(_startTimestamp).TotalMilliseconds;
            if (elapsed < _server.Config.BusyReplyThreshold) return false;
            _server.Logger.LogWarning("Slow script detected: still in execution after {Elapsed} milliseconds. You can try killing the script using the {Command} command. Script name is: {Name}.",
                elapsed, _isEval ? "SCRIPT KILL" : "FUNCTION KILL", RunningName);
            TimedOut = true;
        }
        _server.Executor.ServeWhileBusy(_caller!);
        return _killed;
    }

    /// <summary>Installs the timeout hook (BusyHook.lua) in a Lua state; call before the sandbox hides the debug library.</summary>
    public void InstallHook(IntPtr l)
    {
        ScriptEngine.LoadChunk(l, "BusyHook.lua");
        LuaApi.lua_pushlightuserdata(l, GCHandle.ToIntPtr(_self));
        LuaApi.lua_pushcclosure(l, &InterruptCallback, 1);
        ScriptEngine.RunChunk(l, "BusyHook.lua", 1, 0);
    }

    [UnmanagedCallersOnly]
    static int InterruptCallback(IntPtr l)
    {
        var busy = (BusyScript)GCHandle.FromIntPtr(LuaApi.lua_touserdata(l, LuaApi.UpvalueIndex(1))).Target!;
        bool killed;
        try
        {
            killed = busy.Interrupt();
        }
        catch (Exception e)
        {
            // Nothing may cross back into Lua: a failure here only costs this round of busy serving.
            busy._server.Logger.LogError(e, "Serving clients during a busy script failed");
            killed = busy._killed;
        }
        LuaApi.lua_pushboolean(l, killed ? 1 : 0);
        return 1;
    }
}
