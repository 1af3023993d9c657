using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MiniRedis.Config;
using MiniRedis.Server;

// Socket completions run on the epoll thread instead of hopping to the thread pool: a connection's
// read loop only parses and hands the batch to the executor, so the extra hop would be pure latency.
// Read by the runtime when the first socket is used, so it must be set before that.
Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
// One epoll thread feeding the executor, like Redis's single event loop: on 2 cores a second one
// cost ~10-20% more CPU per request in context switches (measured with redis-benchmark -P 1).
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", "1");

// miniredis-server [config-file] [-] [--directive value ...], exactly like redis-server.
var commandLine = CommandLine.Parse(args);
switch (commandLine.Action)
{
    case CommandLineAction.ShowVersion:
        Console.WriteLine(CommandLine.VersionText);
        return 0;
    case CommandLineAction.ShowUsage:
        Console.Error.WriteLine(CommandLine.UsageText);
        return 1;
}

ServerConfig config;
// Kept so that a daemonizing start can hand the same text to its detached child.
byte[]? stdinConfig = null;
string launchDirectory = Environment.CurrentDirectory;
try
{
    if (commandLine.ReadConfigFromStdin)
    {
        using var stdin = new MemoryStream();
        using (var input = Console.OpenStandardInput()) input.CopyTo(stdin);
        stdinConfig = stdin.ToArray();
    }
    config = ServerConfig.Load(commandLine, stdinConfig is null ? null : new MemoryStream(stdinConfig));
    // Like Redis, the working directory is `dir`: relative file names (AOF, RDB, pidfile, unixsocket) resolve there.
    Directory.SetCurrentDirectory(config.Dir);
}
catch (ConfigException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

// As Redis: a supervised server stays in the foreground whatever daemonize says.
if (config.Daemonize && !Daemon.IsChild && !Supervision.Resolve(config, NullLogger.Instance).Active)
    return await Daemon.DetachAsync(args, launchDirectory, stdinConfig);
if (Daemon.IsChild) Daemon.BecomeSessionLeader();

using var logs = new RedisLoggerProvider(config, detached: Daemon.IsChild);
var processLogger = logs.CreateLogger("MiniRedis.Server");
var supervision = Supervision.Resolve(config, processLogger);
// logrotate's postrotate sends SIGHUP; Redis ignores the signal otherwise, so it must not end the process.
using var reopenLogOnHangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
{
    context.Cancel = true;
    logs.Reopen();
});
var pidFile = PidFile.Create(config.PidFile ?? (Daemon.IsChild ? ServerConfig.DefaultDaemonPidFile : null), processLogger);

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.SetMinimumLevel(LogLevel.Trace);
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
builder.Logging.AddProvider(logs);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
builder.Services.AddSingleton(config);
builder.Services.AddSingleton(supervision);
builder.Services.AddHostedService<RedisHostedService>();
try
{
    await builder.Build().RunAsync();
}
catch (InvalidOperationException e)
{
    // Start-up failures (a port in use...) end the process with Redis's one-line reason, not a stack trace.
    Console.Error.WriteLine(e.Message);
    return 1;
}
finally
{
    pidFile?.Remove();
}
// Non-zero when the server stopped because its data could not be loaded.
return Environment.ExitCode;
