using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>Generic key commands (Redis's db.c and expire.c).</summary>
public static unsafe class KeyCommands
{
    public static void Register(CommandTable t)
    {
    }
}
