"""What people read after (or during) a search: the status tables (``_render``), the report with tables
and plots (``_report``), and optuna-dashboard with prediction previews (``_dashboard``)."""

from ._dashboard import Target, add_missing_previews, dashboard_url, resolve, serve
from ._render import print_launch_summary, print_status
from ._report import (
    PLOTS,
    TABLE_COLUMNS,
    Report,
    best_first,
    fmt_float,
    fmt_params,
    metrics_history,
    render_html,
    render_markdown,
    run_dirs,
    state_name,
    study_config,
    trade_off,
    trial_rows,
    trials_table,
    write_report,
)

__all__ = ["best_first", "state_name", "PLOTS", "TABLE_COLUMNS", "Report", "fmt_float", "fmt_params", "Target", "add_missing_previews", "dashboard_url", "metrics_history",
           "print_launch_summary", "print_status", "render_html", "render_markdown", "resolve", "run_dirs", "serve",
           "study_config", "trade_off", "trial_rows", "trials_table", "write_report"]
