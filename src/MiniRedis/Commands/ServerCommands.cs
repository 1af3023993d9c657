using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>Server commands (Redis's server.c): INFO, CONFIG, COMMAND, DEBUG, SHUTDOWN, TIME, DBSIZE, FLUSH*.</summary>
public static unsafe class ServerCommands
{
    public static void Register(CommandTable t)
    {
    }
}
