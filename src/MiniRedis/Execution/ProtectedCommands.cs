using MiniRedis.Config;

namespace MiniRedis.Execution;

/// <summary>
/// Redis's CMD_PROTECTED commands: DEBUG, and MODULE LOAD/LOADEX/UNLOAD, run only for the clients
/// <c>enable-debug-command</c> and <c>enable-module-command</c> allow (neither, by default). Checked
/// after the arity and before authentication, where Redis's processCommand checks it.
/// </summary>
static class ProtectedCommands
{
    /// <summary>The error refusing <paramref name="command"/> to <paramref name="session"/>, or null when it may run.</summary>
    internal static string? Refusal(ServerConfig config, ClientSession session, CommandDef command)
    {
        var (setting, name, directive) = command.Name switch
        {
            "debug" => (config.EnableDebugCommand, "DEBUG", "enable-debug-command"),
            "module|load" or "module|loadex" or "module|unload" => (config.EnableModuleCommand, "MODULE", "enable-module-command"),
            _ => (ProtectedAction.Yes, null, null),
        };
        if (name is null || ServerConfig.Allows(setting, session.IsLocal)) return null;
        return $"ERR {name} command not allowed. If the {directive} option is set to \"local\", you can run it from a local connection, " +
            "otherwise you need to set this option in the configuration file, and then restart the server.";
    }
}
