using Microsoft.AspNetCore.Http;

namespace Clickstream.Collector.Rest;

/// <summary><c>GET /ping</c>: Raccoon's health check answers <c>pong</c>.</summary>
internal static class PingHandler
{
    // Raccoon writes no Content-Type; Go's net/http then sniffs this one.
    private const string ContentType = "text/plain; charset=utf-8";

    private static readonly ReadOnlyMemory<byte> Pong = "pong"u8.ToArray();

    public static Task HandleAsync(HttpContext context)
    {
        context.Response.ContentType = ContentType;
        context.Response.ContentLength = Pong.Length;
        return context.Response.Body.WriteAsync(Pong, context.RequestAborted).AsTask();
    }
}
