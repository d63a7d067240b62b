namespace Clickstream.Pipeline;
