using System.Runtime.InteropServices;

namespace MiniRedis.Scripting;

/// <summary>
/// The slice of Lua 5.4's C API the engine uses, bound directly to the native library the KeraLua
/// package ships ("lua54"). Callbacks receive the raw <c>lua_State*</c> of the running coroutine, so
/// they work on that pointer rather than on a managed wrapper, and strings cross as spans (no copies).
/// Never raise a Lua error from managed code: lua_error longjmps, and a longjmp across managed
/// frames is undefined on Linux. Callbacks return an error marker that Lua code raises instead.
/// </summary>
static unsafe partial class LuaApi
{
    const string Library = "lua54";

    public const int RegistryIndex = -1000000 - 1000;
    public const int MultipleResults = -1;

    public const int TypeNil = 0, TypeBoolean = 1, TypeLightUserData = 2, TypeNumber = 3, TypeString = 4, TypeTable = 5, TypeFunction = 6;

    public const int StatusOk = 0, StatusErrorRun = 2, StatusErrorSyntax = 3, StatusErrorMemory = 4;

    public const int GcCollect = 2, GcCount = 3, GcCountBytes = 4;

    public static int UpvalueIndex(int i) => RegistryIndex - i;

    [LibraryImport(Library)] public static partial IntPtr luaL_newstate();
    [LibraryImport(Library)] public static partial void luaL_openlibs(IntPtr l);
    [LibraryImport(Library)] public static partial void lua_close(IntPtr l);
    [LibraryImport(Library)] public static partial int lua_gettop(IntPtr l);
    [LibraryImport(Library)] public static partial void lua_settop(IntPtr l, int index);
    [LibraryImport(Library)] public static partial void lua_pushvalue(IntPtr l, int index);
    [LibraryImport(Library)] public static partial void lua_rotate(IntPtr l, int index, int n);
    [LibraryImport(Library)] public static partial int lua_type(IntPtr l, int index);
    [LibraryImport(Library)] public static partial byte* lua_tolstring(IntPtr l, int index, out nuint length);
    [LibraryImport(Library)] public static partial double lua_tonumberx(IntPtr l, int index, out int isNumber);
    [LibraryImport(Library)] public static partial long lua_tointegerx(IntPtr l, int index, out int isNumber);
    [LibraryImport(Library)] public static partial int lua_isinteger(IntPtr l, int index);
    [LibraryImport(Library)] public static partial int lua_toboolean(IntPtr l, int index);
    [LibraryImport(Library)] public static partial IntPtr lua_touserdata(IntPtr l, int index);
    [LibraryImport(Library)] public static partial void lua_pushnil(IntPtr l);
    [LibraryImport(Library)] public static partial void lua_pushinteger(IntPtr l, long value);
    [LibraryImport(Library)] public static partial void lua_pushnumber(IntPtr l, double value);
    [LibraryImport(Library)] public static partial IntPtr lua_pushlstring(IntPtr l, byte* s, nuint length);
    [LibraryImport(Library)] public static partial void lua_pushboolean(IntPtr l, int value);
    [LibraryImport(Library)] public static partial void lua_pushlightuserdata(IntPtr l, IntPtr p);
    [LibraryImport(Library)] public static partial void lua_pushcclosure(IntPtr l, delegate* unmanaged<IntPtr, int> function, int upvalues);
    [LibraryImport(Library)] public static partial void lua_createtable(IntPtr l, int arrayCount, int hashCount);
    [LibraryImport(Library)] public static partial void lua_rawseti(IntPtr l, int index, long n);
    [LibraryImport(Library)] public static partial int lua_rawgeti(IntPtr l, int index, long n);
    [LibraryImport(Library)] public static partial int lua_rawget(IntPtr l, int index);
    [LibraryImport(Library)] public static partial void lua_rawset(IntPtr l, int index);
    [LibraryImport(Library)] public static partial int lua_next(IntPtr l, int index);
    [LibraryImport(Library)] public static partial int lua_pcallk(IntPtr l, int args, int results, int messageHandler, IntPtr context, IntPtr continuation);
    [LibraryImport(Library)] public static partial int luaL_loadbufferx(IntPtr l, byte* buffer, nuint size, byte* name, byte* mode);
    [LibraryImport(Library)] public static partial int luaL_ref(IntPtr l, int table);
    [LibraryImport(Library)] public static partial void luaL_unref(IntPtr l, int table, int reference);
    [LibraryImport(Library)] public static partial byte* lua_setupvalue(IntPtr l, int function, int n);
    [LibraryImport(Library)] public static partial int lua_gc(IntPtr l, int what, int data);
    [LibraryImport(Library)] public static partial int lua_checkstack(IntPtr l, int n);

    public static void Pop(IntPtr l, int n) => lua_settop(l, -n - 1);

    public static ReadOnlySpan<byte> ToSpan(IntPtr l, int index)
    {
        var p = lua_tolstring(l, index, out var length);
        return p == null ? default : new ReadOnlySpan<byte>(p, (int)length);
    }

    public static void PushBytes(IntPtr l, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes) lua_pushlstring(l, p, (nuint)bytes.Length);
    }

    /// <summary>Pushes t[key] (a raw get: no metamethods, so it cannot raise).</summary>
    public static int RawGetField(IntPtr l, int table, ReadOnlySpan<byte> key)
    {
        if (table < 0 && table > RegistryIndex) table = lua_gettop(l) + table + 1;
        PushBytes(l, key);
        return lua_rawget(l, table);
    }

    /// <summary>t[key] = top of stack, raw; pops the value.</summary>
    public static void RawSetField(IntPtr l, int table, ReadOnlySpan<byte> key)
    {
        if (table < 0 && table > RegistryIndex) table = lua_gettop(l) + table + 1;
        PushBytes(l, key);
        lua_pushvalue(l, -2);
        lua_rawset(l, table);
        Pop(l, 1);
    }
}
