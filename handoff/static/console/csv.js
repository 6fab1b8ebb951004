/*
 * CSV for the console's tables, made in the browser: RFC 4180 (CRLF between records, a
 * field quoted when it holds a comma, a quote or a line break, quotes doubled), saved
 * through a Blob and a download link, so no table's rows travel to the gateway again.
 * It starts with a byte order mark, without which Excel reads UTF-8 as its own code page
 * ("Ã©" for "é").
 */

// A spreadsheet runs a cell that starts with =, +, -, @, a tab or a CR as a formula, and
// customers' own words reach these tables (comments, unanswered questions): such a cell
// gets a leading apostrophe, OWASP's advice on CSV injection. A plain number stays one.
function inert(text) {
  return /^[=+\-@\t\r]/.test(text) && !/^[+-]?\d+(\.\d+)?%?$/.test(text) ? "'" + text : text;
}

function field(value) {
  var text = inert(value === null || value === undefined ? "" : String(value));
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

// header: the column names; rows: arrays of the cells' text, as the table shows them.
export function csvText(header, rows) {
  return "\uFEFF" + [header].concat(rows).map(function (row) {
    return row.map(field).join(",");
  }).join("\r\n") + "\r\n";
}

// type: the file's media type, CSV unless given.
export function download(fileName, text, type) {
  var url = URL.createObjectURL(new Blob([text], { type: type || "text/csv;charset=utf-8" }));
  var link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has its own copy once it started; a moment later the URL can go.
  setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
}
