// Only what hx-* attributes cannot say: report failed requests where the user looks.
document.addEventListener("htmx:responseError", function (event) {
  var box = document.getElementById("flashes");
  if (!box) return;
  var status = event.detail.xhr.status;
  var text = status === 403 ? "Bạn không có quyền thực hiện thao tác này."
    : status === 404 ? "Không tìm thấy dữ liệu."
    : status === 400 ? "Yêu cầu không hợp lệ. Vui lòng tải lại trang và thử lại."
    : "Thao tác chưa thực hiện được (lỗi " + status + "). Dữ liệu chưa được lưu; vui lòng thử lại.";
  var alert = document.createElement("div");
  alert.className = "alert alert-danger";
  alert.setAttribute("role", "alert");
  alert.textContent = text;
  box.replaceChildren(alert);
});
document.addEventListener("htmx:sendError", function () {
  var box = document.getElementById("flashes");
  if (!box) return;
  var alert = document.createElement("div");
  alert.className = "alert alert-warning";
  alert.setAttribute("role", "alert");
  alert.textContent = "Mất kết nối tới máy chủ. Dữ liệu chưa được lưu; vui lòng thử lại.";
  box.replaceChildren(alert);
});
