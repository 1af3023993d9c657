using System.Text;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Scripting;

/// <summary>A function a library registered: its name, description, flags and its callback in the Lua registry.</summary>
public sealed class LibraryFunction(string name, byte[]? description, IReadOnlyList<string> flags, int callbackRef)
{
    public string Name { get; } = name;
    public byte[]? Description { get; } = description;

    /// <summary>The flags given, lowercase, without repeats.</summary>
    public IReadOnlyList<string> Flags { get; } = flags;
    public bool NoWrites => Flags.Contains("no-writes");
    public ScriptDeclaration Declaration => new(true, NoWrites, Flags.Contains("allow-stale"), Flags.Contains("allow-oom"));
    internal int CallbackRef { get; } = callbackRef;
    public FunctionLibrary Library { get; internal set; } = null!;
}

/// <summary>A library loaded by FUNCTION LOAD: its name, its code as given (shebang included) and its functions in registration order.</summary>
public sealed class FunctionLibrary(string name, byte[] code, List<LibraryFunction> functions)
{
    public string Name { get; } = name;
    public byte[] Code { get; } = code;
    public IReadOnlyList<LibraryFunction> Functions => functions;
}

/// <summary>
/// A set of libraries and the functions they hold (Redis's functionsLibCtx): the current one, or one
/// a FUNCTION RESTORE builds aside before joining it to the current one. Library names are
/// case-sensitive, function names are not, as in Redis.
/// </summary>
sealed class LibrarySet
{
    public readonly Dictionary<string, FunctionLibrary> Libraries = new(StringComparer.Ordinal);
    public readonly Dictionary<string, LibraryFunction> Functions = new(StringComparer.OrdinalIgnoreCase);

    public void Link(FunctionLibrary library)
    {
        Libraries.Add(library.Name, library);
        foreach (var function in library.Functions) Functions.Add(function.Name, function);
    }

    public void Unlink(FunctionLibrary library)
    {
        Libraries.Remove(library.Name);
        foreach (var function in library.Functions) Functions.Remove(function.Name);
    }

    /// <summary>The first function of <paramref name="library"/> whose name another library here already uses.</summary>
    public string? Colliding(FunctionLibrary library)
    {
        foreach (var function in library.Functions)
        {
            if (Functions.ContainsKey(function.Name)) return function.Name;
        }
        return null;
    }
}

/// <summary>How FUNCTION RESTORE treats the libraries already there.</summary>
public enum RestorePolicy { Append, Replace, Flush }

/// <summary>
/// The Lua engine behind FUNCTION and FCALL (Redis's functions.c + function_lua.c). Functions live in
/// a Lua state of their own, set up as the scripts' one (the same redis.* API, sandbox and
/// conversions: a second <see cref="ScriptEngine"/>), plus Functions.lua, which runs a library's code
/// with the load-time API. Libraries are kept as their code: that is what FUNCTION DUMP, the RDB
/// (FUNCTION2 records) and the AOF hold, and loading any of them compiles the code again.
/// </summary>
public sealed unsafe class FunctionEngine : IDisposable
{
    public const string EngineName = "LUA";

    /// <summary>Redis's scripts_flags_def, in the order FUNCTION LIST shows them.</summary>
    public static readonly string[] FlagOrder = ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"];
    const string NameRule = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";
    static readonly byte[] ChunkName = "@user_function\0"u8.ToArray();

    readonly ScriptEngine _lua;
    LibrarySet _current = new();
    IntPtr _loaderState;
    int _loaderRef;

    public FunctionEngine(IScriptHost host) => _lua = new ScriptEngine(host);

    public IReadOnlyCollection<FunctionLibrary> Libraries => _current.Libraries.Values;
    public int LibraryCount => _current.Libraries.Count;
    public int FunctionCount => _current.Functions.Count;

    /// <summary>The libraries' code, in the order FUNCTION LIST shows them, for an RDB or AOF image taken now.</summary>
    public IReadOnlyList<byte[]> Codes() => _current.Libraries.Values.Select(l => l.Code).ToArray();

    /// <summary>Bytes the functions' Lua state holds (INFO used_memory_vm_functions).</summary>
    public long VmMemory => _lua.LuaMemory;

    /// <summary>
    /// The engine's bookkeeping (INFO used_memory_functions): an estimate from the libraries' code and
    /// the functions' names and descriptions, plus fixed costs per library and function like Redis's structs.
    /// </summary>
    public long OverheadMemory
    {
        get
        {
            long bytes = 0;
            foreach (var library in _current.Libraries.Values)
            {
                bytes += 64 + library.Name.Length + library.Code.Length;
                foreach (var function in library.Functions) bytes += 96 + function.Name.Length + (function.Description?.Length ?? 0);
            }
            return bytes;
        }
    }

    /// <summary>FCALL's lookup, case-insensitive.</summary>
    public LibraryFunction? Find(ReadOnlySpan<byte> name)
    {
        Span<char> chars = name.Length <= 128 ? stackalloc char[name.Length] : new char[name.Length];
        for (int i = 0; i < name.Length; i++) chars[i] = (char)name[i];
        return _current.Functions.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars, out var function) ? function : null;
    }

    /// <summary>
    /// FUNCTION LOAD: the library's name, or null and Redis's error text (without its "ERR "). Its code
    /// may run 500 ms unless <paramref name="timed"/> is false (the AOF being loaded: Redis obeys it).
    /// </summary>
    public string? Load(byte[] code, bool replace, bool timed, out string? error) => Create(code, replace, _current, timed, out error);

    /// <summary>
    /// Loads the FUNCTION2 records of an RDB image being read (<see cref="Persistence.Rdb.RdbReader.FunctionLibrary"/>);
    /// a library that fails (one already there, unless <paramref name="replace"/>) fails the load, as in Redis.
    /// </summary>
    public Action<byte[]> RdbLoader(bool replace) => code =>
    {
        if (Create(code, replace, _current, timed: false, out var error) is null) throw new Persistence.Rdb.RdbFormatException("Failed loading library, " + error);
    };

    /// <summary>FUNCTION DELETE: false when no library has that name.</summary>
    public bool Delete(string name)
    {
        if (!_current.Libraries.TryGetValue(name, out var library)) return false;
        _current.Unlink(library);
        Release(library);
        return true;
    }

    /// <summary>FUNCTION FLUSH (and DEBUG RELOAD's flush): every library goes, and the Lua state is replaced by a fresh one, as Redis does.</summary>
    public void Flush()
    {
        _current = new LibrarySet();
        // The new state may reuse the old one's address: forget the loader, it belonged to the old state.
        _loaderState = 0;
        _lua.Flush();
    }

    /// <summary>
    /// Redis's functionsCreateWithLibraryCtx: parses the shebang, compiles and runs the code with the
    /// load-time API, and links the library into <paramref name="set"/>; on any failure the set is as before.
    /// </summary>
    string? Create(byte[] code, bool replace, LibrarySet set, bool timed, out string? error)
    {
        if (!TryParseMetadata(code, out var name, out var engine, out int bodyStart, out error)) return null;
        if (!IsValidName(name))
        {
            error = NameRule;
            return null;
        }
        if (!engine.Equals(EngineName, StringComparison.OrdinalIgnoreCase))
        {
            error = $"Engine '{engine}' not found";
            return null;
        }
        set.Libraries.TryGetValue(name, out var old);
        if (old is not null && !replace)
        {
            error = $"Library '{name}' already exists";
            return null;
        }
        var library = Compile(name, code, bodyStart, timed, out error);
        if (library is null) return null;
        if (library.Functions.Count == 0)
        {
            // Nothing was registered, so nothing to release.
            error = "No functions registered";
            return null;
        }
        if (old is not null) set.Unlink(old);
        if (set.Colliding(library) is { } taken)
        {
            if (old is not null) set.Link(old);
            Release(library);
            error = $"Function {taken} already exists";
            return null;
        }
        set.Link(library);
        if (old is not null) Release(old);
        return name;
    }

    /// <summary>Redis's functionExtractLibMetaData: "#!&lt;engine&gt; name=&lt;library&gt;" on the first line; the body starts at its line feed (kept, so line numbers stay the user's).</summary>
    static bool TryParseMetadata(byte[] code, out string name, out string engine, out int bodyStart, out string? error)
    {
        name = engine = "";
        bodyStart = 0;
        error = null;
        if (!code.AsSpan().StartsWith("#!"u8))
        {
            error = "Missing library metadata";
            return false;
        }
        bodyStart = code.AsSpan().IndexOf((byte)'\n');
        var parts = new CommandBatch();
        parts.BeginCommand();
        if (bodyStart < 0 || !ArgSplitter.Split(code.AsSpan(0, bodyStart), parts) || parts[0].Count == 0)
        {
            error = "Invalid library metadata";
            return false;
        }
        var words = parts[0];
        engine = CString(words[0][2..]);
        string? library = null;
        for (int i = 1; i < words.Count; i++)
        {
            var word = words[i];
            if (word.Length >= 5 && Ascii.EqualsIgnoreCase(word[..5], "name="u8))
            {
                if (library is not null)
                {
                    error = "Invalid metadata value, name argument was given multiple times";
                    return false;
                }
                library = CString(word[5..]);
                continue;
            }
            error = "Invalid metadata value given: " + CString(word);
            return false;
        }
        if (library is null)
        {
            error = "Library name was not given";
            return false;
        }
        name = library;
        return true;
    }

    /// <summary>C's view of a split word: up to its first NUL.</summary>
    static string CString(ReadOnlySpan<byte> bytes)
    {
        int nul = bytes.IndexOf((byte)0);
        return Encoding.Latin1.GetString(nul < 0 ? bytes : bytes[..nul]);
    }

    /// <summary>Redis's functionsVerifyName: [a-zA-Z0-9_]+.</summary>
    static bool IsValidName(string name)
    {
        if (name.Length == 0) return false;
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_') return false;
        }
        return true;
    }

    /// <summary>Compiles the library's body and runs it to collect its functions; null and the error when either fails.</summary>
    FunctionLibrary? Compile(string name, byte[] code, int bodyStart, bool timed, out string? error)
    {
        error = null;
        var l = State();
        if (!_lua.Compile(LuaFrames.GuardFunctionBodies(code.AsSpan(bodyStart)), ChunkName, out var message))
        {
            error = "Error compiling function: " + message;
            return null;
        }
        _ = LuaApi.lua_rawgeti(l, LuaApi.RegistryIndex, _loaderRef);
        LuaApi.lua_rotate(l, -2, 1);
        LuaApi.lua_pushboolean(l, timed ? 1 : 0);
        if (LuaApi.lua_pcallk(l, 2, 2, 0, 0, 0) != LuaApi.StatusOk)
        {
            error = "Error registering functions: ERR " + Encoding.Latin1.GetString(LuaApi.ToSpan(l, -1));
            LuaApi.Pop(l, 1);
            return null;
        }
        if (LuaApi.lua_toboolean(l, -2) == 0)
        {
            error = "Error registering functions: " + (LuaApi.lua_type(l, -1) == LuaApi.TypeTable && LuaApi.RawGetField(l, -1, "err"u8) == LuaApi.TypeString
                ? Encoding.Latin1.GetString(LuaApi.ToSpan(l, -1))
                : "ERR unknown error");
            LuaApi.lua_settop(l, 0);
            return null;
        }
        var functions = ReadRegistrations(l);
        LuaApi.lua_settop(l, 0);
        var library = new FunctionLibrary(name, code, functions);
        foreach (var function in functions) function.Library = library;
        return library;
    }

    /// <summary>The loader's list of registrations (on top of the stack) as functions, each callback given a registry reference.</summary>
    static List<LibraryFunction> ReadRegistrations(IntPtr l)
    {
        var functions = new List<LibraryFunction>();
        for (int i = 1; LuaApi.lua_rawgeti(l, -1, i) == LuaApi.TypeTable; i++)
        {
            LuaApi.RawGetField(l, -1, "name"u8);
            var name = Encoding.Latin1.GetString(LuaApi.ToSpan(l, -1));
            LuaApi.Pop(l, 1);
            byte[]? description = null;
            if (LuaApi.RawGetField(l, -1, "description"u8) == LuaApi.TypeString) description = LuaApi.ToSpan(l, -1).ToArray();
            LuaApi.Pop(l, 1);
            var flags = new List<string>();
            LuaApi.RawGetField(l, -1, "flags"u8);
            for (int j = 1; LuaApi.lua_rawgeti(l, -1, j) == LuaApi.TypeString; j++)
            {
                var flag = Encoding.Latin1.GetString(LuaApi.ToSpan(l, -1));
                if (!flags.Contains(flag)) flags.Add(flag);
                LuaApi.Pop(l, 1);
            }
            LuaApi.Pop(l, 2);
            LuaApi.RawGetField(l, -1, "callback"u8);
            int callback = LuaApi.luaL_ref(l, LuaApi.RegistryIndex);
            LuaApi.Pop(l, 1);
            functions.Add(new LibraryFunction(name, description, flags, callback));
        }
        LuaApi.Pop(l, 1);
        return functions;
    }

    /// <summary>Frees the callbacks of a library that is gone (or never linked).</summary>
    void Release(FunctionLibrary library)
    {
        if (_loaderState == 0) return;
        foreach (var function in library.Functions) LuaApi.luaL_unref(_loaderState, LuaApi.RegistryIndex, function.CallbackRef);
    }

    /// <summary>The functions' Lua state, with the loader of Functions.lua set up once per state (FUNCTION FLUSH starts a new one).</summary>
    IntPtr State()
    {
        var l = _lua.LuaState;
        if (l == _loaderState) return l;
        ScriptEngine.LoadChunk(l, "Functions.lua");
        _ = LuaApi.lua_rawgeti(l, LuaApi.RegistryIndex, _lua.EnvironmentRef);
        _ = LuaApi.lua_rawgeti(l, LuaApi.RegistryIndex, _lua.ErrorHandlerRef);
        // The debug library (its hooks), which the sandbox hides from scripts but the package table still holds.
        LuaApi.RawGetField(l, LuaApi.RegistryIndex, "_LOADED"u8);
        LuaApi.RawGetField(l, -1, "debug"u8);
        LuaApi.lua_rotate(l, -2, 1);
        LuaApi.Pop(l, 1);
        LuaApi.lua_pushcclosure(l, &MillisecondsCallback, 0);
        ScriptEngine.RunChunk(l, "Functions.lua", 4, 1);
        _loaderRef = LuaApi.luaL_ref(l, LuaApi.RegistryIndex);
        _loaderState = l;
        return l;
    }

    /// <summary>A monotonic clock in milliseconds, for FUNCTION LOAD's timeout.</summary>
    [System.Runtime.InteropServices.UnmanagedCallersOnly]
    static int MillisecondsCallback(IntPtr l)
    {
        LuaApi.lua_pushinteger(l, Environment.TickCount64);
        return 1;
    }

    /// <summary>FUNCTION DUMP: a FUNCTION2 record per library, then the RDB version and a CRC64, as Redis's DUMP payloads.</summary>
    public byte[] Dump(bool compress) => Persistence.Rdb.RdbWriter.FunctionPayload(Codes(), compress);

    /// <summary>
    /// FUNCTION RESTORE: the payload's libraries are created aside, then joined per <paramref name="policy"/>;
    /// null on success, else Redis's error text, with nothing changed.
    /// </summary>
    public string? Restore(ReadOnlySpan<byte> payload, RestorePolicy policy)
    {
        var codes = Persistence.Rdb.RdbReader.ReadFunctionPayload(payload, out var error);
        if (codes is null) return error;
        var staged = new LibrarySet();
        foreach (var code in codes)
        {
            if (Create(code, replace: false, staged, timed: false, out error) is null)
            {
                foreach (var library in staged.Libraries.Values) Release(library);
                return error;
            }
        }
        if (policy == RestorePolicy.Flush)
        {
            foreach (var library in _current.Libraries.Values) Release(library);
            _current = staged;
            return null;
        }
        error = Join(staged, policy == RestorePolicy.Replace);
        if (error is not null)
        {
            foreach (var library in staged.Libraries.Values) Release(library);
        }
        return error;
    }

    /// <summary>Redis's libraryJoin: links the staged libraries into the current set, or changes nothing and returns why.</summary>
    string? Join(LibrarySet staged, bool replace)
    {
        var replaced = new List<FunctionLibrary>();
        string? error = null;
        foreach (var library in staged.Libraries.Values)
        {
            if (!_current.Libraries.TryGetValue(library.Name, out var old)) continue;
            if (!replace)
            {
                error = $"Library {library.Name} already exists";
                break;
            }
            _current.Unlink(old);
            replaced.Add(old);
        }
        if (error is null)
        {
            foreach (var library in staged.Libraries.Values)
            {
                if (_current.Colliding(library) is { } taken)
                {
                    error = $"Function {taken} already exists";
                    break;
                }
            }
        }
        if (error is not null)
        {
            foreach (var old in replaced) _current.Link(old);
            return error;
        }
        foreach (var library in staged.Libraries.Values) _current.Link(library);
        foreach (var old in replaced) Release(old);
        return null;
    }

    /// <summary>The functions' Lua state, where FCALL runs a function (ScriptingCommands.RunAndReply).</summary>
    public ScriptEngine Lua
    {
        get
        {
            _ = State();
            return _lua;
        }
    }

    public void Dispose() => _lua.Dispose();
}
