using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Server;

var config = new ServerConfig();
for (int i = 0; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--port") config.Port = int.Parse(args[i + 1]);
}

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.SetMinimumLevel(LogLevel.Trace);
builder.Logging.AddProvider(new RedisLoggerProvider("", "notice"));
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
builder.Services.AddSingleton(config);
builder.Services.AddHostedService<RedisHostedService>();
await builder.Build().RunAsync();
return 0;
