#include "io/pth.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/zip_records.h"

namespace biggan::io {

namespace {

PyRef make(PyValue::Kind kind) {
  auto v = std::make_shared<PyValue>();
  v->kind = kind;
  return v;
}

PyRef make_string(PyValue::Kind kind, std::string text) {
  auto v = make(kind);
  v->text = std::move(text);
  return v;
}

torch::ScalarType dtype_of_storage(const std::string& storage_class, const std::string& path) {
  static const std::map<std::string, torch::ScalarType> table{
      {"torch.FloatStorage", torch::kFloat32},   {"torch.DoubleStorage", torch::kFloat64},
      {"torch.HalfStorage", torch::kFloat16},    {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kInt64},      {"torch.IntStorage", torch::kInt32},
      {"torch.ShortStorage", torch::kInt16},     {"torch.CharStorage", torch::kInt8},
      {"torch.ByteStorage", torch::kUInt8},      {"torch.BoolStorage", torch::kBool}};
  const auto it = table.find(storage_class);
  if (it == table.end()) throw Error(path + ": unsupported tensor storage type " + storage_class);
  return it->second;
}

// Where the bytes of a storage come from: a zip record, or (legacy) a region after the pickles
// that is only known once the pickles have been read, so the storage is filled in afterwards.
using StorageLoader = std::function<torch::Tensor(const std::vector<PyRef>& persistent_id)>;

// A pickle machine for the opcodes torch.save emits (protocol 2) plus the protocol-4 framing
// ones. Unknown callables become opaque objects; only torch's tensor rebuild functions and
// the containers are interpreted.
class Unpickler {
 public:
  Unpickler(const char* data, std::size_t size, std::string path, StorageLoader storage_loader)
      : data_(data), size_(size), path_(std::move(path)), storage_loader_(std::move(storage_loader)) {}

  PyRef load() {
    while (true) {
      const unsigned char op = byte();
      switch (op) {
        case 0x80: byte(); break;                        // PROTO
        case 0x95: bytes(8); break;                      // FRAME
        case '.': return pop();                          // STOP
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case 'N': push(make(PyValue::Kind::none)); break;
        case 0x88: push_bool(true); break;
        case 0x89: push_bool(false); break;
        case 'J': push_int(static_cast<std::int32_t>(little_endian(4))); break;
        case 'K': push_int(static_cast<std::int64_t>(little_endian(1))); break;
        case 'M': push_int(static_cast<std::int64_t>(little_endian(2))); break;
        case 0x8a: push_int(long_value(byte())); break;    // LONG1
        case 0x8b: push_int(long_value(little_endian(4))); break;  // LONG4
        case 'G': push_float(); break;
        case 'X': push(make_string(PyValue::Kind::string, bytes(little_endian(4)))); break;
        case 0x8c: push(make_string(PyValue::Kind::string, bytes(byte()))); break;  // SHORT_BINUNICODE
        case 0x8d: push(make_string(PyValue::Kind::string, bytes(little_endian(8)))); break;
        case 'T': push(make_string(PyValue::Kind::string, bytes(little_endian(4)))); break;  // BINSTRING
        case 'U': push(make_string(PyValue::Kind::string, bytes(byte()))); break;  // SHORT_BINSTRING
        case 'B': push(make_string(PyValue::Kind::bytes, bytes(little_endian(4)))); break;
        case 'C': push(make_string(PyValue::Kind::bytes, bytes(byte()))); break;
        case 0x8e: push(make_string(PyValue::Kind::bytes, bytes(little_endian(8)))); break;
        case '}': push(make(PyValue::Kind::dict)); break;
        case ']': push(make(PyValue::Kind::list)); break;
        case ')': push(make(PyValue::Kind::tuple)); break;
        case 0x8f: push(make(PyValue::Kind::list)); break;  // EMPTY_SET, kept as a list
        case 't': push(tuple_of(pop_mark())); break;
        case 0x85: push(tuple_of(pop_n(1))); break;
        case 0x86: push(tuple_of(pop_n(2))); break;
        case 0x87: push(tuple_of(pop_n(3))); break;
        case 'l': {
          auto list = make(PyValue::Kind::list);
          list->items = pop_mark();
          holds(*list, list->items);
          push(list);
          break;
        }
        case 'a': {
          auto item = pop();
          auto list = container(PyValue::Kind::list);
          holds(*list, {item});
          list->items.push_back(item);
          break;
        }
        case 'e': case 0x90: {                           // APPENDS, ADDITEMS
          auto items = pop_mark();
          auto list = container(PyValue::Kind::list);
          holds(*list, items);
          list->items.insert(list->items.end(), items.begin(), items.end());
          break;
        }
        case 's': {
          auto value = pop();
          auto key = pop();
          auto dict = container(PyValue::Kind::dict);
          holds(*dict, {key, value});
          dict->entries.emplace_back(key, value);
          break;
        }
        case 'u': {
          auto items = pop_mark();
          if (items.size() % 2) fail("SETITEMS with an odd number of items");
          auto dict = container(PyValue::Kind::dict);
          holds(*dict, items);
          for (std::size_t i = 0; i < items.size(); i += 2) dict->entries.emplace_back(items[i], items[i + 1]);
          break;
        }
        case 'q': memo_[little_endian(1)] = top(); break;  // BINPUT
        case 'r': memo_[little_endian(4)] = top(); break;  // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;     // MEMOIZE
        case 'h': push(memo(little_endian(1))); break;     // BINGET
        case 'j': push(memo(little_endian(4))); break;     // LONG_BINGET
        case 'c': {                                        // GLOBAL "module\nname\n"
          std::string module = line();
          push(make_string(PyValue::Kind::global, module + "." + line()));
          break;
        }
        case 0x93: {                                       // STACK_GLOBAL
          auto name = pop();
          auto module = pop();
          push(make_string(PyValue::Kind::global, module->text + "." + name->text));
          break;
        }
        case 'R': { auto args = pop(); auto callable = pop(); push(call(callable, args)); break; }
        case 0x81: { auto args = pop(); auto cls = pop(); push(call(cls, args)); break; }  // NEWOBJ
        case 'b': { auto state = pop(); holds(*top(), {state}); top()->state = state; break; }  // BUILD
        case 'Q': { auto id = pop(); push(persistent(id)); break; }                       // BINPERSID
        default: fail("unsupported pickle opcode 0x" + hex(op));
      }
    }
  }

  std::size_t position() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(path_ + ": cannot read this .pth file (" + what + " at byte " + std::to_string(pos_) +
                "); is it a torch.save file?");
  }
  unsigned char byte() {
    if (pos_ >= size_) fail("unexpected end of data");
    return static_cast<unsigned char>(data_[pos_++]);
  }
  std::string bytes(std::uint64_t n) {
    if (n > size_ - pos_) fail("unexpected end of data");
    std::string s(data_ + pos_, n);
    pos_ += n;
    return s;
  }
  std::uint64_t little_endian(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(byte()) << (8 * i);
    return v;
  }
  std::int64_t long_value(std::uint64_t n) {
    if (n == 0) return 0;
    if (n > 8) {  // only the legacy format's magic number is this wide; its low 64 bits suffice
      const std::uint64_t low = little_endian(8);
      bytes(n - 8);
      return static_cast<std::int64_t>(low);
    }
    std::uint64_t v = little_endian(static_cast<int>(n));
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~std::uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<std::int64_t>(v);
  }
  std::string line() {
    std::string s;
    for (char c = static_cast<char>(byte()); c != '\n'; c = static_cast<char>(byte())) s += c;
    return s;
  }
  static std::string hex(unsigned char c) {
    const char* digits = "0123456789abcdef";
    return std::string{digits[c >> 4], digits[c & 15]};
  }

  void push(PyRef v) { stack_.push_back(std::move(v)); }
  void push_bool(bool b) { auto v = make(PyValue::Kind::boolean); v->boolean = b; push(v); }
  void push_int(std::int64_t i) { auto v = make(PyValue::Kind::integer); v->integer = i; push(v); }
  void push_float() {
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | byte();  // big-endian
    auto v = make(PyValue::Kind::floating);
    std::memcpy(&v->floating, &bits, 8);
    push(v);
  }
  PyRef top() {
    if (stack_.empty()) fail("stack underflow");
    return stack_.back();
  }
  PyRef pop() {
    PyRef v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<PyRef> pop_n(std::size_t n) {
    if (stack_.size() < n) fail("stack underflow");
    std::vector<PyRef> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return items;
  }
  std::vector<PyRef> pop_mark() {
    if (marks_.empty()) fail("no MARK");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    return pop_n(stack_.size() - mark);
  }
  PyRef container(PyValue::Kind kind) {
    PyRef c = top();
    if (c->kind != kind) fail("expected a " + std::string(kind == PyValue::Kind::dict ? "dict" : "list") +
                              " on the stack, found " + c->describe());
    return c;
  }
  PyRef memo(std::uint64_t key) {
    const auto it = memo_.find(key);
    if (it == memo_.end()) fail("unknown memo key " + std::to_string(key));
    return it->second;
  }
  PyRef tuple_of(std::vector<PyRef> items) const {
    auto t = make(PyValue::Kind::tuple);
    holds(*t, items);
    t->items = std::move(items);
    return t;
  }
  // Records that `container` holds `items`. Values nest by one level per opcode, so a few MB of
  // damaged (or hostile) pickle could nest a million deep, and freeing that recursively would
  // overflow the stack; real files nest a handful of levels.
  void holds(PyValue& container, const std::vector<PyRef>& items) const {
    constexpr int kMaxNesting = 1000;
    for (const auto& item : items) container.depth = std::max(container.depth, item->depth + 1);
    if (container.depth > kMaxNesting) fail("values nested more than " + std::to_string(kMaxNesting) + " levels deep");
  }

  PyRef persistent(const PyRef& id) {
    if (id->kind != PyValue::Kind::tuple || id->items.empty()) fail("unsupported persistent id " + id->describe());
    if (id->items[0]->text == "module") {  // legacy files embed a module class's source: keep it opaque
      auto object = make_string(PyValue::Kind::object, id->items.size() > 1 ? id->items[1]->text : "module");
      return object;
    }
    if (id->items[0]->text != "storage") fail("unsupported persistent id " + id->items[0]->describe());
    auto v = make(PyValue::Kind::tensor);
    v->tensor = storage_loader_(id->items);
    return v;
  }

  std::int64_t int_at(const PyRef& tuple, std::size_t i) const {
    if (i >= tuple->items.size() || tuple->items[i]->kind != PyValue::Kind::integer) fail("malformed tensor sizes");
    return tuple->items[i]->integer;
  }
  std::vector<std::int64_t> ints(const PyRef& tuple) const {
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < tuple->items.size(); ++i) out.push_back(int_at(tuple, i));
    return out;
  }

  // Fails unless every index the view can reach (computed without overflow) is below `numel`.
  void check_view_inside(std::int64_t numel, std::int64_t offset, const std::vector<std::int64_t>& sizes,
                         const std::vector<std::int64_t>& strides) const {
    if (offset < 0 || offset > numel) fail("tensor view outside its storage");
    std::int64_t last = offset;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i] < 0 || strides[i] < 0) fail("a negative tensor size or stride");
      if (sizes[i] == 0) return;  // an empty view reads nothing
      if (sizes[i] > 1 && strides[i] > (numel - 1 - last) / (sizes[i] - 1)) fail("tensor view outside its storage");
      last += (sizes[i] - 1) * strides[i];
    }
    if (last >= numel) fail("tensor view outside its storage");
  }

  PyRef call(const PyRef& callable, const PyRef& args) {
    const std::string& name = callable->text;
    const auto& a = args->items;
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      if (a.size() < 4 || a[0]->kind != PyValue::Kind::tensor || a[1]->kind != PyValue::Kind::integer)
        fail("malformed " + name + " call");
      auto v = make(PyValue::Kind::tensor);
      const torch::Tensor& storage = a[0]->tensor;
      const auto sizes = ints(a[2]);
      const auto strides = ints(a[3]);
      if (sizes.size() != strides.size()) fail("a tensor with " + std::to_string(sizes.size()) + " sizes but " +
                                               std::to_string(strides.size()) + " strides");
      check_view_inside(storage.numel(), a[1]->integer, sizes, strides);
      v->tensor = storage.as_strided(sizes, strides, a[1]->integer);
      return v;
    }
    if (name == "torch._utils._rebuild_parameter") {
      if (a.empty() || a[0]->kind != PyValue::Kind::tensor) fail("malformed " + name + " call");
      return a[0];
    }
    if (name == "collections.OrderedDict") {
      auto dict = make(PyValue::Kind::dict);
      if (!a.empty() && a[0]->kind == PyValue::Kind::list)
        for (const auto& pair : a[0]->items)
          if (pair->items.size() == 2) {
            holds(*dict, pair->items);
            dict->entries.emplace_back(pair->items[0], pair->items[1]);
          }
      return dict;
    }
    if (name == "torch.jit._pickle.restore_type_tag" && !a.empty()) return a[0];  // torch::pickle_save's dicts
    if (name == "_codecs.encode" && !a.empty()) return make_string(PyValue::Kind::bytes, a[0]->text);
    auto object = make_string(PyValue::Kind::object, name);
    holds(*object, a);
    object->items = a;
    return object;
  }

  const char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::string path_;
  StorageLoader storage_loader_;
  std::vector<PyRef> stack_;
  std::vector<std::size_t> marks_;
  std::map<std::uint64_t, PyRef> memo_;
};

std::string storage_class(const std::vector<PyRef>& id, std::size_t index, const std::string& path) {
  if (id.size() <= index || id[index]->kind != PyValue::Kind::global)
    throw Error(path + ": malformed storage reference in the pickle");
  return id[index]->text;
}

PyRef read_zip(const std::string& path) {
  caffe2::serialize::PyTorchStreamReader reader(path);
  std::map<std::string, torch::Tensor> storages;
  auto loader = [&](const std::vector<PyRef>& id) {
    // ('storage', storage_type, key, location, numel)
    if (id.size() < 5) throw Error(path + ": malformed storage reference in the pickle");
    const torch::ScalarType dtype = dtype_of_storage(storage_class(id, 1, path), path);
    const std::string key = id[2]->text;
    auto it = storages.find(key);
    if (it != storages.end()) return it->second;
    const std::string record = "data/" + key;
    if (!reader.hasRecord(record)) throw Error(path + ": storage record " + record + " is missing");
    auto [data, nbytes] = reader.getRecord(record);
    const auto element = static_cast<std::size_t>(c10::elementSize(dtype));
    if (nbytes % element) throw Error(path + ": storage " + key + " has a size that is not a whole number of elements");
    torch::Tensor storage = torch::empty({static_cast<std::int64_t>(nbytes / element)}, torch::dtype(dtype));
    std::memcpy(storage.data_ptr(), data.get(), nbytes);
    storages.emplace(key, storage);
    return storage;
  };
  auto [pickle, size] = reader.getRecord("data.pkl");
  Unpickler unpickler(static_cast<const char*>(pickle.get()), size, path, loader);
  return unpickler.load();
}

// Legacy layout: pickle(magic), pickle(protocol), pickle(sys_info), pickle(object),
// pickle([storage keys]), then for each key an int64 element count and the raw bytes.
PyRef read_legacy(const std::string& path, const std::string& contents) {
  const char* data = contents.data();
  std::size_t offset = 0;
  auto next_pickle = [&](const StorageLoader& loader) {
    Unpickler u(data + offset, contents.size() - offset, path, loader);
    PyRef v = u.load();
    offset += u.position();
    return v;
  };
  auto no_storage = [&](const std::vector<PyRef>&) -> torch::Tensor {
    throw Error(path + ": unexpected tensor in the file header");
  };
  const PyRef magic = next_pickle(no_storage);
  // 0x1950a86a20f9469cfc6c does not fit 64 bits; its low 64 bits identify the format well enough.
  if (magic->kind != PyValue::Kind::integer || static_cast<std::uint64_t>(magic->integer) != 0xa86a20f9469cfc6cULL)
    throw Error(path + ": not a PyTorch file (neither a zip archive nor the legacy torch.save format)");
  next_pickle(no_storage);  // protocol version
  next_pickle(no_storage);  // sys_info
  std::map<std::string, torch::Tensor> storages;
  auto loader = [&](const std::vector<PyRef>& id) {
    // ('storage', storage_type, root_key, location, numel, view_metadata)
    if (id.size() < 6) throw Error(path + ": malformed storage reference in the pickle");
    const torch::ScalarType dtype = dtype_of_storage(storage_class(id, 1, path), path);
    const std::string root_key = id[2]->text;
    auto it = storages.find(root_key);
    if (it == storages.end()) {
      // Its bytes follow in this file, so a count the file cannot hold is damage (and is not allocated).
      const std::int64_t numel = id[4]->kind == PyValue::Kind::integer ? id[4]->integer : -1;
      if (numel < 0 || static_cast<std::uint64_t>(numel) > contents.size() / c10::elementSize(dtype))
        throw Error(path + ": storage " + root_key + " claims " + std::to_string(numel) +
                    " elements, more than the file holds (damaged?)");
      it = storages.emplace(root_key, torch::empty({numel}, torch::dtype(dtype))).first;
    }
    const PyRef& view = id[5];
    if (view->kind == PyValue::Kind::tuple && view->items.size() == 3) {
      const std::int64_t start = view->items[1]->integer, length = view->items[2]->integer;
      if (view->items[1]->kind != PyValue::Kind::integer || view->items[2]->kind != PyValue::Kind::integer ||
          start < 0 || length < 0 || start > it->second.numel() - length)
        throw Error(path + ": storage view of " + root_key + " outside it (damaged?)");
      return it->second.narrow(0, start, length);
    }
    return it->second;
  };
  PyRef result = next_pickle(loader);
  const PyRef keys = next_pickle(no_storage);
  for (const auto& key : keys->items) {
    const auto it = storages.find(key->text);
    if (it == storages.end()) throw Error(path + ": storage " + key->text + " is listed but never referenced");
    torch::Tensor& storage = it->second;
    if (contents.size() - offset < 8) throw Error(path + ": truncated (storage " + key->text + ")");
    std::int64_t count = 0;
    std::memcpy(&count, data + offset, 8);
    offset += 8;
    const auto nbytes = static_cast<std::size_t>(storage.numel()) * storage.element_size();
    if (count != storage.numel() || contents.size() - offset < nbytes)
      throw Error(path + ": truncated or inconsistent storage " + key->text);
    std::memcpy(storage.data_ptr(), data + offset, nbytes);
    offset += nbytes;
  }
  return result;
}

}  // namespace

std::string PyValue::describe() const {
  switch (kind) {
    case Kind::none: return "None";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::string: return "str '" + text + "'";
    case Kind::bytes: return "bytes";
    case Kind::tuple: return "tuple";
    case Kind::list: return "list";
    case Kind::dict: return "dict";
    case Kind::tensor: return "tensor";
    case Kind::global: return "global " + text;
    case Kind::object: return "object " + text;
  }
  return "?";
}

PyRef read_pth(const std::string& path) {
  if (starts_as_zip(path)) {
    check_zip_records(path);
    try {
      return read_zip(path);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw Error(path + ": unreadable zip archive: " + what.substr(0, what.find('\n')));
    }
  }
  const std::string contents = read_file(path);
  try {
    return read_legacy(path, contents);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // LibTorch's checks on what a damaged pickle asks for
    const std::string what = e.what();
    throw Error(path + ": cannot read this .pth file (damaged?): " + what.substr(0, what.find('\n')));
  }
}

std::vector<std::pair<std::string, torch::Tensor>> read_pth_state_dict(const std::string& path) {
  const PyRef root = read_pth(path);
  if (root->kind != PyValue::Kind::dict)
    throw Error(path + ": expected a state_dict (a dict of tensors) but the file holds a " + root->describe());
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [key, value] : root->entries) {
    if (key->kind != PyValue::Kind::string)
      throw Error(path + ": state_dict key of type " + key->describe() + " (expected names)");
    if (value->kind != PyValue::Kind::tensor)
      throw Error(path + ": state_dict entry '" + key->text + "' is a " + value->describe() + ", not a tensor");
    out.emplace_back(key->text, value->tensor);
  }
  return out;
}

namespace {

// Deep and large enough for any config. A pickle can also build a list that holds itself, or
// one value that refers to the one below it twice, 60 times over (2^60 values once expanded).
constexpr int kMaxJsonDepth = 64;
constexpr std::size_t kMaxJsonValues = 1000000;

nlohmann::json to_json_within(const PyValue& value, int depth, std::size_t& values_left) {
  using Kind = PyValue::Kind;
  if (depth > kMaxJsonDepth)
    throw Error("a value nested more than " + std::to_string(kMaxJsonDepth) + " levels deep (or holding itself)");
  if (values_left-- == 0)
    throw Error("more than " + std::to_string(kMaxJsonValues) + " values (one that repeats itself?)");
  switch (value.kind) {
    case Kind::boolean: return value.boolean;
    case Kind::integer: return value.integer;
    case Kind::floating: return value.floating;
    case Kind::string: return value.text;
    case Kind::tuple:
    case Kind::list: {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& item : value.items) array.push_back(to_json_within(*item, depth + 1, values_left));
      return array;
    }
    case Kind::dict: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& [key, item] : value.entries) {
        const std::string name = key->kind == Kind::string ? key->text : to_json_within(*key, depth + 1, values_left).dump();
        object[name] = to_json_within(*item, depth + 1, values_left);
      }
      return object;
    }
    default: return nullptr;
  }
}

}  // namespace

nlohmann::json to_json(const PyValue& value) {
  std::size_t values_left = kMaxJsonValues;
  return to_json_within(value, 0, values_left);
}

nlohmann::json read_biggan_pytorch_config(const std::string& state_dict_path) {
  const PyRef root = read_pth(state_dict_path);
  if (root->kind == PyValue::Kind::dict)
    for (const auto& [key, value] : root->entries)
      if (key->kind == PyValue::Kind::string && key->text == "config" && value->kind == PyValue::Kind::dict)
        try {
          return to_json(*value);
        } catch (const Error& e) {
          throw Error(state_dict_path + ": 'config': " + e.what());
        }
  throw Error(state_dict_path + ": no 'config' dict in this file (expected BigGAN-PyTorch's state_dict.pth)");
}

std::string read_exported_config_yaml(const std::string& state_dict_path) {
  const PyRef root = read_pth(state_dict_path);
  if (root->kind == PyValue::Kind::dict)
    for (const auto& [key, value] : root->entries)
      if (key->kind == PyValue::Kind::string && key->text == "config" && value->kind == PyValue::Kind::string)
        return value->text;
  return "";
}

void write_pth_state_dict(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& entries) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [key, tensor] : entries) dict.insert(key, tensor.detach().cpu().contiguous());
  const std::vector<char> bytes = torch::pickle_save(dict);
  write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace biggan::io
