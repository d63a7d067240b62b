using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Clickstream.Raccoon;
using Google.Protobuf;

namespace Clickstream.Collector.Wire;

/// <summary>Decodes requests and encodes responses in either <see cref="WireFormat"/>.</summary>
internal static class WireCodec
{
    /// <summary>Decodes a whole request; false, with the decoder's message, when it does not decode.</summary>
    public static bool TryDecode(WireFormat format, in ReadOnlySequence<byte> body, [NotNullWhen(true)] out SendEventRequest? request, [NotNullWhen(false)] out string? error)
    {
        try
        {
            // Both decoders copy what they keep (strings, event bytes), so the buffer can be reused afterwards.
            request = format == WireFormat.Proto
                ? SendEventRequest.Parser.ParseFrom(body)
                : RaccoonJson.ReadRequest(body);
            error = null;
            return true;
        }
        catch (InvalidProtocolBufferException e)
        {
            (request, error) = (null, e.Message);
            return false;
        }
        catch (FormatException e)
        {
            (request, error) = (null, e.Message);
            return false;
        }
    }

    public static void Encode(SendEventResponse response, WireFormat format, IBufferWriter<byte> output)
    {
        if (format == WireFormat.Proto)
        {
            response.WriteTo(output);
        }
        else
        {
            RaccoonJson.WriteResponse(response, output);
        }
    }
}
