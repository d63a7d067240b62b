using Microsoft.Extensions.Options;

namespace Clickstream.Pipeline.Hosting;

/// <summary>
/// Validates <see cref="ClickstreamOptions"/> when the host starts (<c>ValidateOnStart</c>) with the pipeline's own
/// rules: one failure whose message lists every invalid option by name, the same text
/// <see cref="ClickstreamPipeline.Create(ClickstreamOptions)"/> would throw.
/// </summary>
internal sealed class ClickstreamOptionsValidator : IValidateOptions<ClickstreamOptions>
{
    public ValidateOptionsResult Validate(string? name, ClickstreamOptions options)
    {
        var errors = PipelineSettings.Validate(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(PipelineSettings.Describe(errors));
    }
}
