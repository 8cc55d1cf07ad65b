"""Reads a CSV export and a Parquet export of the same rows with pandas, as a
user would, and prints (as JSON) the Parquet file's Arrow types and every
cell where the two disagree.

Usage: python compare_parquet.py EXPORT.csv EXPORT.parquet
"""
import json
import math
import os
import sys

import pandas as pd
import pyarrow.parquet as pq

csv_path, parquet_path = sys.argv[1], sys.argv[2]
schema = pq.read_schema(parquet_path)
file_schema = pq.ParquetFile(parquet_path).schema
json_columns = {
    file_schema.column(i).name
    for i in range(len(file_schema))
    if str(file_schema.column(i).logical_type) == "JSON"
}
from_csv = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
from_parquet = pd.read_parquet(parquet_path)


def same(text, value, column):
    """Whether a CSV cell (as written) and a Parquet value are one value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return text == ""
    if column in json_columns:
        value = json.loads(value)
        if isinstance(value, str):
            return text == value
        return json.loads(text) == value
    if isinstance(value, str):
        return text == value
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    return float(text) == float(value)


mismatches = []
if list(from_csv.columns) != list(from_parquet.columns):
    mismatches.append({"columns": [list(from_csv.columns), list(from_parquet.columns)]})
elif len(from_csv) != len(from_parquet):
    mismatches.append({"rows": [len(from_csv), len(from_parquet)]})
else:
    for column in from_parquet.columns:
        for row, (text, value) in enumerate(zip(from_csv[column], from_parquet[column])):
            if not same(text, None if pd.isna(value) else value, column):
                mismatches.append({"column": column, "row": row, "csv": text, "parquet": str(value)})

print(json.dumps({
    "arrow": {f.name: str(f.type) for f in schema},
    "json_columns": sorted(json_columns),
    "pandas": {c: str(t) for c, t in from_parquet.dtypes.items()},
    "rows": len(from_parquet),
    "mismatches": mismatches[:20],
}))
sys.stdout.flush()
# pyarrow 22 can abort in its thread pools' teardown at interpreter exit
# ("terminate called without an active exception") after all is done.
os._exit(0)
