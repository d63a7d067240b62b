using System.Collections;
using System.Reflection;
using LiteDB;

namespace Clickstream.Pipeline.Storage;

/// <summary>
/// Works around a LiteDB 5.0.21 defect that would crash the app's process: after a failed write (disk full),
/// the failed transaction and the half-disposed database are left to their finalizers, and
/// <c>TransactionService</c>'s finalizer throws ("discarded page must be writable") on the finalizer
/// thread, which ends the process (see ARCHITECTURE, Decisions: LiteDB's finalizers). Before a database that
/// failed is dropped, its open transactions' finalizers (and its own) are suppressed: their pages are already
/// dropped with the engine, and nothing they would do is needed.
/// </summary>
internal static class LiteDbFinalizers
{
    private const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;

    /// <summary>Suppresses the finalizers of <paramref name="db"/> and of its engine's open transactions. Never throws.</summary>
    public static void Suppress(LiteDatabase db)
    {
        GC.SuppressFinalize(db);
        try
        {
            var engine = typeof(LiteDatabase).GetField("_engine", Private)?.GetValue(db);
            var monitor = engine?.GetType().GetField("_monitor", Private)?.GetValue(engine);
            if (monitor?.GetType().GetField("_transactions", Private)?.GetValue(monitor) is IDictionary transactions)
            {
                lock (transactions)
                {
                    foreach (var transaction in transactions.Values)
                    {
                        if (transaction is not null)
                        {
                            GC.SuppressFinalize(transaction);
                        }
                    }
                }
            }
        }
        catch (Exception ex) when (ex is TargetException or FieldAccessException or InvalidOperationException)
        {
            // Another LiteDB version laid out otherwise: nothing to suppress here.
        }
    }
}
