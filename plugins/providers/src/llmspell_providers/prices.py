"""Cost of a call from the token usage and a price table (``prices.toml`` plus the
``[prices]`` of llmspell.toml)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import attrs

from llmspell.config import Config
from llmspell.messages import Usage


@attrs.define(frozen=True)
class Price:
    """US dollars per million input and output tokens."""

    input: float
    output: float

    def cost(self, usage: Usage) -> float:
        return (usage.input_tokens * self.input + usage.output_tokens * self.output) / 1e6


def builtin_prices() -> dict[str, Price]:
    """The table shipped with this package."""
    import tomllib  # read when a price is first needed, not at start-up
    from importlib import resources

    text = resources.files("llmspell_providers").joinpath("prices.toml").read_text("utf-8")
    models = tomllib.loads(text)["models"]
    return {name: Price(float(p["input"]), float(p["output"])) for name, p in models.items()}


class _BuiltinPrices(Mapping[str, Price]):
    """:func:`builtin_prices`, read on first use (most runs never price a call)."""

    def __init__(self) -> None:
        self._table: dict[str, Price] | None = None

    @property
    def table(self) -> dict[str, Price]:
        if self._table is None:
            self._table = builtin_prices()
        return self._table

    def __getitem__(self, name: str) -> Price:
        return self.table[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return repr(self.table)


@attrs.define(frozen=True)
class PriceTable:
    """Prices by model string; a name not listed takes the price of its longest listed prefix
    that ends at a ``-`` or ``@`` boundary (``gpt-4o-mini-2024-07-18`` -> ``gpt-4o-mini``)."""

    prices: Mapping[str, Price]

    @classmethod
    def load(cls, config: Config) -> PriceTable:
        """The built-in prices with the ``[prices]`` of ``config`` over them (the built-in
        table is read when first used if ``config`` sets no price)."""
        if not config.prices:
            return cls(_BuiltinPrices())
        table = builtin_prices()
        for name, entry in config.prices.items():
            old = table.get(name, Price(0.0, 0.0))
            table[name] = Price(
                entry.get("input", float, old.input), entry.get("output", float, old.output)
            )
        return cls(table)

    def lookup(self, model: str) -> Price | None:
        """The price of ``provider/model``, or ``None`` when unknown."""
        if model in self.prices:
            return self.prices[model]
        best = None
        for name, price in self.prices.items():
            if (
                model.startswith(name)
                and model[len(name)] in "-@:"
                and (best is None or len(name) > len(best[0]))
            ):
                best = (name, price)
        return best[1] if best else None

    def priced(self, model: str, usage: Usage) -> Usage:
        """``usage`` with its ``cost`` filled in (left ``None`` when the price is unknown)."""
        price = self.lookup(model)
        if price is None:
            return usage
        return attrs.evolve(usage, cost=round(price.cost(usage), 10))
