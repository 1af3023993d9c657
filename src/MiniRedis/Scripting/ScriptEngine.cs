using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Scripting;

/// <summary>
/// What a script declares about itself, in its shebang's flags or a function's: whether it declared
/// anything (a script without a shebang runs in Redis's EVAL compatibility mode), never writes, and may
/// run on a stale replica.
/// </summary>
public readonly record struct ScriptDeclaration(bool Declared, bool NoWrites, bool AllowStale, bool AllowOom);

/// <summary>A compiled script in the cache: its function in the Lua registry, and what its shebang declares.</summary>
public sealed class CachedScript(string sha, int functionRef, ScriptDeclaration declaration)
{
    public string Sha { get; } = sha;
    public ScriptDeclaration Declaration { get; } = declaration;
    public bool NoWrites => Declaration.NoWrites;
    internal int FunctionRef { get; } = functionRef;
}

/// <summary>
/// The Lua host behind EVAL (Redis's eval.c + script_lua.c): one Lua 5.4 state made to look like
/// Redis's 5.1 (Prelude.lua), the script cache keyed by SHA1, and the conversions between Lua values
/// and RESP. A script runs to completion on the executor thread; its redis.call goes straight to
/// the host, which runs the command through the executor's call path, so it is atomic and its
/// effects propagate as the commands it ran. The state is created on first use; SCRIPT FLUSH closes
/// it (releasing everything scripts allocated) and starts a fresh one.
/// </summary>
public sealed unsafe partial class ScriptEngine : IDisposable
{
    const int GlobalsIndex = 2; // LUA_RIDX_GLOBALS
    const int MaxReplyDepth = 1000;
    static readonly byte[] ChunkName = "@user_script\0"u8.ToArray();
    static readonly byte[] TextMode = "t\0"u8.ToArray();
    // The semicolon ends the declaration: a script starting with an operator ("-5") must not continue it.
    static readonly byte[] NoTailCalls = "local __redis__frames <close> = nil; "u8.ToArray();

    readonly IScriptHost _host;
    readonly Dictionary<string, CachedScript> _scripts = new(StringComparer.Ordinal);
    readonly Dictionary<string, CachedScript>.AlternateLookup<ReadOnlySpan<char>> _bySha;
    readonly CommandBatch _callArgs = new();
    GCHandle _self;
    IntPtr _l;
    int _handlerRef;
    int _envRef;
    bool _readOnly;
    bool _resp3;

    // Redis's rand48 state (rand.c), shared by every script's math.random.
    long _rand48 = 0x1234ABCD330E;

    public ScriptEngine(IScriptHost host)
    {
        _host = host;
        _bySha = _scripts.GetAlternateLookup<ReadOnlySpan<char>>();
        _self = GCHandle.Alloc(this, GCHandleType.Weak);
    }

    public int CachedScripts => _scripts.Count;

    /// <summary>Bytes the cached scripts' bodies and names take (INFO used_memory_scripts_eval).</summary>
    public long ScriptsMemory { get; private set; }

    /// <summary>Bytes the Lua state holds (INFO used_memory_lua / used_memory_vm_eval).</summary>
    public long LuaMemory => _l == 0 ? 0 : LuaApi.lua_gc(_l, LuaApi.GcCount, 0) * 1024L + LuaApi.lua_gc(_l, LuaApi.GcCountBytes, 0);

    public static string Sha1Hex(ReadOnlySpan<byte> body)
    {
        Span<byte> hex = stackalloc byte[40];
        Sha1Hex(body, hex);
        return Encoding.ASCII.GetString(hex);
    }

    /// <summary>Scripts are named by the SHA1 of their body, as Redis names them (not a security use).</summary>
#pragma warning disable CA5350
    static void Sha1Hex(ReadOnlySpan<byte> data, Span<byte> hex)
    {
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(data, hash);
        Convert.TryToHexStringLower(hash, hex, out _);
    }
#pragma warning restore CA5350

    /// <summary>EVALSHA's lookup: the first 40 characters of <paramref name="sha"/>, in any case.</summary>
    public CachedScript? Find(ReadOnlySpan<byte> sha)
    {
        if (sha.Length != 40) return null;
        Span<char> lower = stackalloc char[40];
        for (int i = 0; i < 40; i++) lower[i] = (char)(sha[i] | 0x20);
        return _bySha.TryGetValue(lower, out var script) ? script : null;
    }

    /// <summary>Compiles <paramref name="body"/> into the cache (or finds it there); null and an error text when it does not compile.</summary>
    public CachedScript? Load(ReadOnlySpan<byte> body, out string? error)
    {
        error = null;
        var sha = Sha1Hex(body);
        if (_scripts.TryGetValue(sha, out var cached)) return cached;
        if (!TryParseShebang(body, out int shebangLength, out var declaration, out error)) return null;
        // The shebang line is skipped but its line feed kept, so line numbers stay the user's.
        body = body[shebangLength..];
        var l = State();
        // Lua 5.4 drops the caller's frame on "return redis.call(...)", and with it the line Redis's
        // error texts name; 5.1 kept frames for C functions. A to-be-closed local (nil: nothing to
        // close) makes the chunk's tail calls ordinary calls. Same line, so line numbers hold.
        var source = new byte[NoTailCalls.Length + body.Length];
        NoTailCalls.CopyTo(source, 0);
        body.CopyTo(source.AsSpan(NoTailCalls.Length));
        if (!Compile(source, ChunkName, out var message))
        {
            error = "ERR Error compiling script (new function): " + message;
            return null;
        }
        long memory = shebangLength + body.Length + sha.Length + 56;
        var script = new CachedScript(sha, LuaApi.luaL_ref(l, LuaApi.RegistryIndex), declaration);
        _scripts[sha] = script;
        ScriptsMemory += memory;
        return script;
    }

    /// <summary>
    /// Pushes <paramref name="source"/> compiled as a function seeing the sandboxed environment (not the
    /// raw globals); false and Lua's message, in 5.1's wording, when it does not compile. Quoted strings'
    /// escapes are read as 5.1 read them (Lua51Source).
    /// </summary>
    internal bool Compile(ReadOnlySpan<byte> source, ReadOnlySpan<byte> chunkName, out string? error)
    {
        var l = State();
        var rewritten = new byte[source.Length];
        int length = Lua51Source.Rewrite(source, rewritten);
        int status;
        fixed (byte* p = rewritten)
        fixed (byte* name = chunkName)
        fixed (byte* mode = TextMode)
        {
            status = LuaApi.luaL_loadbufferx(l, p, (nuint)length, name, mode);
        }
        if (status != LuaApi.StatusOk)
        {
            // Lua 5.4 names the end of input <eof> where 5.1 (and so Redis) quoted it, and says where an unfinished long string began.
            error = UnfinishedLongFrom().Replace(Encoding.Latin1.GetString(LuaApi.ToSpan(l, -1)), "").Replace("near <eof>", "near '<eof>'", StringComparison.Ordinal);
            LuaApi.Pop(l, 1);
            return false;
        }
        _ = LuaApi.lua_rawgeti(l, LuaApi.RegistryIndex, _envRef);
        LuaApi.lua_setupvalue(l, -2, 1);
        error = null;
        return true;
    }

    public bool Exists(ReadOnlySpan<byte> sha) => Find(sha) is not null;

    [System.Text.RegularExpressions.GeneratedRegex(@"(?<=^[^:]*:\d+: unfinished long (?:string|comment)) \(starting at line \d+\)")]
    private static partial System.Text.RegularExpressions.Regex UnfinishedLongFrom();

    static readonly string[] ShebangFlags = ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"];

    /// <summary>What a script body's shebang declares (not declared when it has none or a bad one), without compiling it.</summary>
    public static ScriptDeclaration DeclarationOf(ReadOnlySpan<byte> body) =>
        TryParseShebang(body, out _, out var declaration, out _) ? declaration : default;

    /// <summary>
    /// Redis's evalExtractShebangFlags: an optional first line "#!lua flags=a,b". No-writes and
    /// allow-stale and allow-oom change what a script may do here (no cluster exists to make the others matter).
    /// </summary>
    static bool TryParseShebang(ReadOnlySpan<byte> body, out int length, out ScriptDeclaration declaration, out string? error)
    {
        length = 0;
        declaration = default;
        error = null;
        if (!body.StartsWith("#!"u8)) return true;
        bool noWrites = false, allowStale = false, allowOom = false;
        length = body.IndexOf((byte)'\n');
        if (length < 0)
        {
            error = "ERR Invalid script shebang";
            return false;
        }
        var parts = new CommandBatch();
        parts.BeginCommand();
        if (!ArgSplitter.Split(body[..length], parts) || parts[0].Count == 0)
        {
            error = "ERR Invalid engine in script shebang";
            return false;
        }
        var words = parts[0];
        if (!words[0].SequenceEqual("#!lua"u8))
        {
            error = "ERR Unexpected engine in script shebang: " + Encoding.Latin1.GetString(words[0]);
            return false;
        }
        for (int i = 1; i < words.Count; i++)
        {
            var word = Encoding.Latin1.GetString(words[i]);
            if (!word.StartsWith("flags=", StringComparison.Ordinal))
            {
                error = "ERR Unknown lua shebang option: " + word;
                return false;
            }
            if (word.Length == "flags=".Length) continue;
            foreach (var flag in word["flags=".Length..].Split(','))
            {
                if (!ShebangFlags.Contains(flag))
                {
                    error = "ERR Unexpected flag in script shebang: " + flag;
                    return false;
                }
                noWrites |= flag == "no-writes";
                allowStale |= flag == "allow-stale";
                allowOom |= flag == "allow-oom";
            }
        }
        declaration = new ScriptDeclaration(true, noWrites, allowStale, allowOom);
        return true;
    }

    /// <summary>SCRIPT FLUSH: forgets every script and replaces the Lua state by a fresh one, giving back all scripts allocated.</summary>
    public void Flush()
    {
        bool started = _l != 0;
        Close();
        if (started) State();
    }

    void Close()
    {
        _scripts.Clear();
        ScriptsMemory = 0;
        if (_l == 0) return;
        LuaApi.lua_close(_l);
        _l = 0;
    }

    public void Dispose()
    {
        Close();
        if (_self.IsAllocated) _self.Free();
    }

    /// <summary>
    /// Runs a cached script (its <see cref="CachedScript.FunctionRef"/>) with KEYS and ARGV taken from <paramref name="args"/> (keys start at
    /// <paramref name="firstKey"/>, arguments follow them). The result stays on the Lua stack for
    /// <see cref="WriteResult"/>; returns false when the script raised an error.
    /// </summary>
    public bool Run(int functionRef, ArgVector args, int firstKey, int numKeys, bool readOnly)
    {
        var l = State();
        _ = LuaApi.lua_rawgeti(l, LuaApi.RegistryIndex, GlobalsIndex);
        PushArray(l, args, firstKey, numKeys);
        LuaApi.RawSetField(l, -2, "KEYS"u8);
        PushArray(l, args, firstKey + numKeys, args.Count - firstKey - numKeys);
        LuaApi.RawSetField(l, -2, "ARGV"u8);
        LuaApi.Pop(l, 1);
        return Invoke(l, functionRef, 0, readOnly);
    }

    /// <summary>FCALL: runs a library's function (on the functions' own engine) with the keys and the arguments as its two parameters, as <see cref="Run"/> does.</summary>
    internal bool RunFunction(int functionRef, ArgVector args, int firstKey, int numKeys, bool readOnly)
    {
        var l = State();
        _ = LuaApi.lua_checkstack(l, 4);
        PushArray(l, args, firstKey, numKeys);
        PushArray(l, args, firstKey + numKeys, args.Count - firstKey - numKeys);
        return Invoke(l, functionRef, 2, readOnly);
    }

    /// <summary>Calls the registry's function <paramref name="functionRef"/> with the <paramref name="argCount"/> values on top of the stack, under the error handler.</summary>
    bool Invoke(IntPtr l, int functionRef, int argCount, bool readOnly)
    {
        _readOnly = readOnly;
        _resp3 = false;
        _ = LuaApi.lua_rawgeti(l, LuaApi.RegistryIndex, _handlerRef);
        _ = LuaApi.lua_rawgeti(l, LuaApi.RegistryIndex, functionRef);
        LuaApi.lua_rotate(l, -argCount - 2, 2); // handler and function below the arguments
        int status = LuaApi.lua_pcallk(l, argCount, 1, LuaApi.lua_gettop(l) - argCount - 1, 0, 0);
        LuaApi.lua_rotate(l, -2, -1); // drop the handler, keep the result or the error
        LuaApi.Pop(l, 1);
        return status == LuaApi.StatusOk;
    }

    /// <summary>
    /// Writes the value <see cref="Run"/> left (a result, or the error it raised) as the reply and pops it.
    /// An error reply at the top is not written but returned, so the caller replies it as its own error;
    /// <paramref name="countError"/> is false when it came from a redis.call error already counted.
    /// </summary>
    public string? WriteResult(ReplyBuffer reply, string sha, bool raised, out bool countError)
    {
        var l = _l;
        countError = true;
        bool isError = raised;
        if (!raised && LuaApi.lua_type(l, -1) == LuaApi.TypeTable && Field(l, "err"u8, LuaApi.TypeString))
        {
            isError = true;
            LuaApi.Pop(l, 1);
        }
        if (!isError)
        {
            WriteValue(l, reply, 0);
            return null;
        }
        var error = ErrorText(l, sha, out countError);
        LuaApi.Pop(l, 1);
        return error;
    }

    /// <summary>Redis's luaExtractErrorInformation: "msg script: sha, on source:line." from {err, source, line}.</summary>
    static string ErrorText(IntPtr l, string sha, out bool countError)
    {
        countError = true;
        if (LuaApi.lua_type(l, -1) != LuaApi.TypeTable)
        {
            var text = LuaApi.ToSpan(l, -1);
            return $"ERR Error running script {sha}, {Encoding.Latin1.GetString(text.IsEmpty ? "execution failure"u8 : text[..Math.Min(100, text.Length)])}";
        }
        LuaApi.RawGetField(l, -1, "err"u8);
        var message = Encoding.Latin1.GetString(LuaApi.ToSpan(l, -1));
        LuaApi.Pop(l, 1);
        countError = LuaApi.RawGetField(l, -1, "ignore_error_stats_update"u8) == LuaApi.TypeNil || LuaApi.lua_toboolean(l, -1) == 0;
        LuaApi.Pop(l, 1);
        LuaApi.RawGetField(l, -1, "source"u8);
        var source = LuaApi.lua_type(l, -1) == LuaApi.TypeString ? Encoding.Latin1.GetString(LuaApi.ToSpan(l, -1)) : null;
        LuaApi.Pop(l, 1);
        string? line = null;
        if (LuaApi.RawGetField(l, -1, "line"u8) == LuaApi.TypeNumber) line = LuaApi.lua_tointegerx(l, -1, out _).ToString(System.Globalization.CultureInfo.InvariantCulture);
        LuaApi.Pop(l, 1);
        return source is not null && line is not null ? $"{message} script: {sha}, on {source}:{line}." : message;
    }

    /// <summary>The engine's Lua state (created on first use), for the function engine that shares its redis.* setup.</summary>
    internal IntPtr LuaState => State();

    /// <summary>The registry references of the sandboxed environment and of the error handler (valid once <see cref="LuaState"/> was read).</summary>
    internal int EnvironmentRef => _envRef;
    internal int ErrorHandlerRef => _handlerRef;

    IntPtr State()
    {
        if (_l != 0) return _l;
        var l = LuaApi.luaL_newstate();
        LuaApi.luaL_openlibs(l);
        // Libraries first (they capture what the prelude then hides), then the prelude, which seals the sandbox.
        LoadLibraries(l);
        _host.Busy.InstallHook(l);
        LoadChunk(l, "Prelude.lua");
        LuaApi.lua_rotate(l, -2, 1); // the prelude below the 5.1 helpers LoadLibraries left: its first argument
        var self = GCHandle.ToIntPtr(_self);
        PushCallback(l, self, &CallRaising);
        PushCallback(l, self, &CallProtected);
        PushCallback(l, self, &AclCheckCallback);
        PushCallback(l, self, &Sha1HexCallback);
        PushCallback(l, self, &LogCallback);
        PushCallback(l, self, &SetRespCallback);
        PushCallback(l, self, &RandCallback);
        PushCallback(l, self, &SeedCallback);
        RunChunk(l, "Prelude.lua", 9, 2);
        _envRef = LuaApi.luaL_ref(l, LuaApi.RegistryIndex);
        _handlerRef = LuaApi.luaL_ref(l, LuaApi.RegistryIndex);
        _l = l;
        return l;
    }

    /// <summary>
    /// The libraries Redis bundles (cjson, cmsgpack, struct) as globals, over the 5.1 argument helpers
    /// of Lauxlib.lua, which it leaves on the stack for the prelude.
    /// </summary>
    static void LoadLibraries(IntPtr l)
    {
        LoadChunk(l, "Lauxlib.lua");
        RunChunk(l, "Lauxlib.lua", 0, 1);
        LoadChunk(l, "Cjson.lua");
        LuaApi.lua_pushvalue(l, -2);
        LuaApi.lua_pushlightuserdata(l, 0); // cjson.null
        RunChunk(l, "Cjson.lua", 2, 0);
        foreach (var name in (ReadOnlySpan<string>)["Cmsgpack.lua", "Struct.lua"])
        {
            LoadChunk(l, name);
            LuaApi.lua_pushvalue(l, -2);
            RunChunk(l, name, 1, 0);
        }
    }

    /// <summary>Pushes one of the engine's Lua files (embedded resources) as a function.</summary>
    internal static void LoadChunk(IntPtr l, string name)
    {
        using var stream = typeof(ScriptEngine).Assembly.GetManifestResourceStream("MiniRedis.Scripting." + name)
            ?? throw new InvalidOperationException("missing " + name);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var chunk = memory.ToArray();
        var chunkName = Encoding.ASCII.GetBytes("=" + name + "\0");
        fixed (byte* p = chunk)
        fixed (byte* n = chunkName)
        fixed (byte* mode = TextMode)
        {
            if (LuaApi.luaL_loadbufferx(l, p, (nuint)chunk.Length, n, mode) != LuaApi.StatusOk) throw new InvalidOperationException(name + ": " + Encoding.UTF8.GetString(LuaApi.ToSpan(l, -1)));
        }
    }

    internal static void RunChunk(IntPtr l, string name, int args, int results)
    {
        if (LuaApi.lua_pcallk(l, args, results, 0, 0, 0) != LuaApi.StatusOk) throw new InvalidOperationException(name + ": " + Encoding.UTF8.GetString(LuaApi.ToSpan(l, -1)));
    }

    static void PushCallback(IntPtr l, IntPtr self, delegate* unmanaged<IntPtr, int> callback)
    {
        LuaApi.lua_pushlightuserdata(l, self);
        LuaApi.lua_pushcclosure(l, callback, 1);
    }

    static ScriptEngine Engine(IntPtr l) => (ScriptEngine)GCHandle.FromIntPtr(LuaApi.lua_touserdata(l, LuaApi.UpvalueIndex(1))).Target!;

    static void PushArray(IntPtr l, ArgVector args, int first, int count)
    {
        LuaApi.lua_createtable(l, count, 0);
        for (int i = 0; i < count; i++)
        {
            LuaApi.PushBytes(l, args[first + i]);
            LuaApi.lua_rawseti(l, -2, i + 1);
        }
    }

    // Callbacks from Lua. None may throw (an exception cannot cross the native frames) or raise a Lua
    // error (a longjmp must not cross managed frames): failures come back as values.

    [UnmanagedCallersOnly]
    static int CallRaising(IntPtr l) => Engine(l).RedisCall(l, raise: true);

    [UnmanagedCallersOnly]
    static int CallProtected(IntPtr l) => Engine(l).RedisCall(l, raise: false);

    [UnmanagedCallersOnly]
    static int Sha1HexCallback(IntPtr l)
    {
        Span<byte> hex = stackalloc byte[40];
        Sha1Hex(LuaApi.ToSpan(l, 1), hex);
        LuaApi.PushBytes(l, hex);
        return 1;
    }

    [UnmanagedCallersOnly]
    static int LogCallback(IntPtr l)
    {
        try
        {
            // Redis's luaLogCommand: the level, then every string-convertible argument joined by spaces.
            var text = new StringBuilder();
            int top = LuaApi.lua_gettop(l);
            for (int i = 2; i <= top; i++)
            {
                int type = LuaApi.lua_type(l, i);
                if (type != LuaApi.TypeString && type != LuaApi.TypeNumber) continue;
                if (i != 2) text.Append(' ');
                text.Append(Encoding.UTF8.GetString(LuaApi.ToSpan(l, i)));
            }
            Engine(l)._host.Log((int)LuaApi.lua_tointegerx(l, 1, out _), text.ToString());
        }
        catch (Exception)
        {
            // A failing logger must not end the script, let alone the process.
        }
        return 0;
    }

    [UnmanagedCallersOnly]
    static int SetRespCallback(IntPtr l)
    {
        Engine(l)._resp3 = LuaApi.lua_tointegerx(l, 1, out _) == 3;
        return 0;
    }

    [UnmanagedCallersOnly]
    static int RandCallback(IntPtr l)
    {
        var engine = Engine(l);
        engine._rand48 = (engine._rand48 * 0x5DEECE66DL + 0xB) & 0xFFFFFFFFFFFFL;
        LuaApi.lua_pushinteger(l, engine._rand48 >> 17);
        return 1;
    }

    [UnmanagedCallersOnly]
    static int SeedCallback(IntPtr l)
    {
        // redisSrand48: the seed's 32 bits above Redis's fixed low word.
        Engine(l)._rand48 = ((long)(uint)(int)LuaApi.lua_tointegerx(l, 1, out _) << 16) | 0x330E;
        return 0;
    }

    /// <summary>redis.call / redis.pcall: pushes the reply, or an error table (and true, for call to raise).</summary>
    int RedisCall(IntPtr l, bool raise)
    {
        bool failed;
        try
        {
            var refusal = CallCommand(l, out failed);
            if (refusal is not null)
            {
                PushErrorTable(l, refusal);
                failed = true;
            }
        }
        catch (Exception e)
        {
            PushErrorTable(l, "ERR " + e.Message);
            failed = true;
        }
        if (!raise || !failed) return 1;
        LuaApi.lua_pushboolean(l, 1);
        return 2;
    }

    /// <summary>
    /// Redis's luaRedisGenericCommand + scriptCall: checks, runs, and pushes the reply as Lua
    /// (<paramref name="errorReply"/> when the command replied an error); returns a refusal's error text instead.
    /// </summary>
    string? CallCommand(IntPtr l, out bool errorReply)
    {
        errorReply = false;
        if (CommandArgs(l) is { } refusal) return refusal;
        var args = _callArgs[0];
        var command = _host.Find(args);
        if (command is null) return "ERR Unknown Redis command called from script";
        if (!command.ArityMatches(args.Count)) return "ERR Wrong number of args calling Redis command from script";
        if ((command.Flags & CommandFlags.NoScript) != 0) return "ERR This Redis command is not allowed from script";
        if (_host.AclRefusal(command, args, logDenial: true) is { } denied) return denied;
        // As Redis's scriptVerifyWriteCommandAllow, may-replicate commands (PUBLISH, PFCOUNT) count as writes here.
        if (_readOnly && ClientPause.MayReplicate(command.Flags)) return "ERR Write commands are not allowed from read-only scripts.";
        if (_host.WriteRefusal(command) is { } refused) return refused;
        if (_host.OutOfMemoryRefusal(command) is { } oom) return oom;
        if (_host.StaleRefusal(command) is { } stale) return stale;
        var reply = _host.Run(command, args, _resp3);
        var bytes = reply.ContiguousSpan();
        errorReply = bytes.Length > 0 && bytes[0] == (byte)'-';
        int pos = 0;
        _ = LuaApi.lua_checkstack(l, 4);
        PushReply(l, bytes, ref pos, 0);
        reply.Clear();
        return null;
    }

    /// <summary>Redis's luaArgsToRedisArgv: the call's Lua arguments as a command in <see cref="_callArgs"/>; returns a refusal's error text instead.</summary>
    string? CommandArgs(IntPtr l)
    {
        int argc = LuaApi.lua_gettop(l);
        if (argc == 0) return "ERR Please specify at least one argument for this redis lib call";
        var batch = _callArgs;
        batch.Clear();
        batch.BeginCommand();
        Span<byte> number = stackalloc byte[RedisNumbers.MaxDoubleLength];
        for (int i = 1; i <= argc; i++)
        {
            switch (LuaApi.lua_type(l, i))
            {
                case LuaApi.TypeString:
                    var arg = LuaApi.ToSpan(l, i);
                    arg.CopyTo(batch.AddArgument(arg.Length));
                    break;
                case LuaApi.TypeNumber:
                    // Redis formats numbers with %.17g (Lua's own conversion would lose precision).
                    int n = RedisNumbers.FormatDouble(LuaApi.lua_tonumberx(l, i, out _), number);
                    number[..n].CopyTo(batch.AddArgument(n));
                    break;
                default:
                    return "ERR Lua redis lib command arguments must be strings or integers";
            }
        }
        return null;
    }

    /// <summary>redis.acl_check_cmd: whether the script's user may run the command with these arguments (an unknown command is an error).</summary>
    [UnmanagedCallersOnly]
    static int AclCheckCallback(IntPtr l)
    {
        var engine = Engine(l);
        string? refusal;
        bool allowed = false;
        try
        {
            refusal = engine.CommandArgs(l);
            if (refusal is null)
            {
                var args = engine._callArgs[0];
                if (engine._host.Find(args) is { } command) allowed = engine._host.AclRefusal(command, args, logDenial: false) is null;
                else refusal = "ERR Invalid command passed to redis.acl_check_cmd()";
            }
        }
        catch (Exception e)
        {
            refusal = "ERR " + e.Message;
        }
        if (refusal is null)
        {
            LuaApi.lua_pushboolean(l, allowed ? 1 : 0);
            return 1;
        }
        PushErrorTable(l, refusal);
        LuaApi.lua_pushboolean(l, 1);
        return 2;
    }

    /// <summary>Redis's luaPushError: {err = "CODE message"}.</summary>
    static void PushErrorTable(IntPtr l, string error)
    {
        LuaApi.lua_createtable(l, 0, 1);
        LuaApi.PushBytes(l, Encoding.Latin1.GetBytes(error));
        LuaApi.RawSetField(l, -2, "err"u8);
    }

    /// <summary>Redis's redisProtocolToLuaType: one RESP2/RESP3 reply as a Lua value.</summary>
    static void PushReply(IntPtr l, ReadOnlySpan<byte> resp, ref int pos, int depth)
    {
        byte type = resp[pos];
        int lineEnd = pos + resp[pos..].IndexOf("\r\n"u8);
        var line = resp[(pos + 1)..lineEnd];
        pos = lineEnd + 2;
        switch (type)
        {
            case (byte)':':
                _ = RedisNumbers.TryParseInt64(line, out long integer);
                LuaApi.lua_pushinteger(l, integer);
                break;
            case (byte)'+':
                PushSingleField(l, "ok"u8, line);
                break;
            case (byte)'-':
                PushRespError(l, line);
                break;
            case (byte)'$' or (byte)'=':
            {
                _ = RedisNumbers.TryParseInt64(line, out long length);
                if (length < 0)
                {
                    LuaApi.lua_pushboolean(l, 0);
                    break;
                }
                var body = resp.Slice(pos, (int)length);
                pos += (int)length + 2;
                if (type == (byte)'$') LuaApi.PushBytes(l, body);
                else PushVerbatim(l, body);
                break;
            }
            case (byte)'*' or (byte)'~' or (byte)'%' or (byte)'>':
            {
                _ = RedisNumbers.TryParseInt64(line, out long count);
                if (count < 0)
                {
                    LuaApi.lua_pushboolean(l, 0);
                    break;
                }
                _ = LuaApi.lua_checkstack(l, 4);
                PushAggregate(l, resp, ref pos, type, (int)count, depth);
                break;
            }
            case (byte)'_':
                LuaApi.lua_pushnil(l);
                break;
            case (byte)'#':
                LuaApi.lua_pushboolean(l, line.Length > 0 && line[0] == (byte)'t' ? 1 : 0);
                break;
            case (byte)',':
                LuaApi.lua_createtable(l, 0, 1);
                _ = RedisNumbers.TryParseDouble(line, out double value);
                LuaApi.lua_pushnumber(l, value);
                LuaApi.RawSetField(l, -2, "double"u8);
                break;
            case (byte)'(':
                PushSingleField(l, "big_number"u8, line);
                break;
            default:
                LuaApi.lua_pushnil(l);
                break;
        }
    }

    static void PushAggregate(IntPtr l, ReadOnlySpan<byte> resp, ref int pos, byte type, int count, int depth)
    {
        if (type is (byte)'*' or (byte)'>')
        {
            LuaApi.lua_createtable(l, count, 0);
            for (int i = 1; i <= count; i++)
            {
                PushReply(l, resp, ref pos, depth + 1);
                LuaApi.lua_rawseti(l, -2, i);
            }
            return;
        }
        // RESP3 maps and sets: {map = {k = v}} and {set = {member = true}}.
        LuaApi.lua_createtable(l, 0, 1);
        LuaApi.lua_createtable(l, 0, count);
        for (int i = 0; i < count; i++)
        {
            PushReply(l, resp, ref pos, depth + 1);
            if (type == (byte)'%') PushReply(l, resp, ref pos, depth + 1);
            else LuaApi.lua_pushboolean(l, 1);
            LuaApi.lua_rawset(l, -3);
        }
        LuaApi.RawSetField(l, -2, type == (byte)'%' ? "map"u8 : "set"u8);
    }

    static void PushSingleField(IntPtr l, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        LuaApi.lua_createtable(l, 0, 1);
        LuaApi.PushBytes(l, value);
        LuaApi.RawSetField(l, -2, field);
    }

    static void PushVerbatim(IntPtr l, ReadOnlySpan<byte> body)
    {
        LuaApi.lua_createtable(l, 0, 1);
        LuaApi.lua_createtable(l, 0, 2);
        LuaApi.PushBytes(l, body[..Math.Min(3, body.Length)]);
        LuaApi.RawSetField(l, -2, "format"u8);
        LuaApi.PushBytes(l, body.Length > 4 ? body[4..] : default);
        LuaApi.RawSetField(l, -2, "string"u8);
        LuaApi.RawSetField(l, -2, "verbatim_string"u8);
    }

    /// <summary>
    /// An error reply as Redis's redisProtocolToLuaType_Error leaves it: {err = "CODE message"}, marked so the
    /// script's own error reply does not count it a second time.
    /// </summary>
    static void PushRespError(IntPtr l, ReadOnlySpan<byte> line)
    {
        int space = line.IndexOf((byte)' ');
        var text = space < 0 ? "ERR " + Encoding.Latin1.GetString(line) : Encoding.Latin1.GetString(line);
        PushErrorTable(l, text);
        LuaApi.lua_pushboolean(l, 1);
        LuaApi.RawSetField(l, -2, "ignore_error_stats_update"u8);
    }

    /// <summary>Redis's luaReplyToRedisReply: the value on top of the stack as a reply to the client; pops it.</summary>
    void WriteValue(IntPtr l, ReplyBuffer reply, int depth)
    {
        if (depth > MaxReplyDepth || LuaApi.lua_checkstack(l, 4) == 0)
        {
            reply.Error("ERR reached lua stack limit");
            LuaApi.Pop(l, 1);
            return;
        }
        switch (LuaApi.lua_type(l, -1))
        {
            case LuaApi.TypeString:
                reply.Bulk(LuaApi.ToSpan(l, -1));
                break;
            case LuaApi.TypeBoolean:
                bool value = LuaApi.lua_toboolean(l, -1) != 0;
                if (_resp3) reply.Boolean(value);
                else if (value) reply.Integer(1);
                else reply.NullBulk();
                break;
            case LuaApi.TypeNumber:
                reply.Integer(ToInteger(l, -1));
                break;
            case LuaApi.TypeTable:
                WriteTable(l, reply, depth);
                break;
            default:
                reply.NullBulk();
                break;
        }
        LuaApi.Pop(l, 1);
    }

    /// <summary>(long long)lua_tonumber: integers as they are, floats truncated (out of range as x86 converts them).</summary>
    static long ToInteger(IntPtr l, int index)
    {
        if (LuaApi.lua_isinteger(l, index) != 0) return LuaApi.lua_tointegerx(l, index, out _);
        double d = LuaApi.lua_tonumberx(l, index, out _);
        return d is >= -9.2233720368547758e18 and < 9.2233720368547758e18 ? (long)d : long.MinValue;
    }

    /// <summary>The reply a table stands for: its err, ok, double, big_number, map or set field, in Redis's order, else an array.</summary>
    void WriteTable(IntPtr l, ReplyBuffer reply, int depth)
    {
        if (Field(l, "err"u8, LuaApi.TypeString))
        {
            var message = Encoding.Latin1.GetString(LuaApi.ToSpan(l, -1));
            reply.Error(message);
        }
        else if (Field(l, "ok"u8, LuaApi.TypeString)) WriteStatus(reply, LuaApi.ToSpan(l, -1));
        else if (Field(l, "double"u8, LuaApi.TypeNumber)) reply.Double(LuaApi.lua_tonumberx(l, -1, out _));
        else if (Field(l, "big_number"u8, LuaApi.TypeString)) WriteBigNumber(reply, LuaApi.ToSpan(l, -1));
        else if (Field(l, "map"u8, LuaApi.TypeTable)) WritePairs(l, reply, depth, map: true);
        else if (Field(l, "set"u8, LuaApi.TypeTable)) WritePairs(l, reply, depth, map: false);
        else
        {
            WriteArray(l, reply, depth);
            return;
        }
        LuaApi.Pop(l, 1);
    }

    /// <summary>Pushes the table's field <paramref name="name"/> when it has type <paramref name="type"/>; otherwise leaves the stack as it was.</summary>
    static bool Field(IntPtr l, ReadOnlySpan<byte> name, int type)
    {
        if (LuaApi.RawGetField(l, -1, name) == type) return true;
        LuaApi.Pop(l, 1);
        return false;
    }

    void WriteArray(IntPtr l, ReplyBuffer reply, int depth)
    {
        // An array: elements 1, 2, ... up to the first nil.
        int start = reply.BeginDeferredArray();
        int count = 0;
        while (LuaApi.lua_rawgeti(l, -1, count + 1) != LuaApi.TypeNil)
        {
            WriteValue(l, reply, depth + 1);
            count++;
        }
        LuaApi.Pop(l, 1);
        reply.EndDeferredArray(start, count);
    }

    static void WriteStatus(ReplyBuffer reply, ReadOnlySpan<byte> text)
    {
        Span<byte> line = text.Length <= 256 ? stackalloc byte[text.Length] : new byte[text.Length];
        text.CopyTo(line);
        foreach (ref var b in line)
        {
            if (b is (byte)'\r' or (byte)'\n') b = (byte)' ';
        }
        reply.SimpleString(line);
    }

    static void WriteBigNumber(ReplyBuffer reply, ReadOnlySpan<byte> digits)
    {
        if (!reply.Resp3)
        {
            reply.Bulk(digits);
            return;
        }
        reply.Raw("("u8);
        reply.Raw(digits);
        reply.Raw("\r\n"u8);
    }

    /// <summary>A {map = t} or {set = t} reply: the table on top, every key (and value, for a map).</summary>
    void WritePairs(IntPtr l, ReplyBuffer reply, int depth, bool map)
    {
        int count = 0;
        LuaApi.lua_pushnil(l);
        while (LuaApi.lua_next(l, -2) != 0)
        {
            count++;
            LuaApi.Pop(l, 1);
        }
        if (map) reply.MapHeader(count);
        else reply.SetHeader(count);
        LuaApi.lua_pushnil(l);
        while (LuaApi.lua_next(l, -2) != 0)
        {
            if (map)
            {
                LuaApi.lua_pushvalue(l, -2);
                WriteValue(l, reply, depth + 1); // the key
                WriteValue(l, reply, depth + 1); // the value
            }
            else
            {
                LuaApi.Pop(l, 1);
                LuaApi.lua_pushvalue(l, -1);
                WriteValue(l, reply, depth + 1);
            }
        }
    }
}
