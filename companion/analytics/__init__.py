"""Live chat analytics: rolling windows, forecasts, anomalies and moments (see ``Analytics``)."""
from .alerts import Alert, Moment
from .analytics import Analytics
from .forecast import Evaluation, Forecast, ForecastPoint
from .stage import AnalyticsStage

__all__ = ["Alert", "Analytics", "AnalyticsStage", "Evaluation", "Forecast", "ForecastPoint", "Moment"]
