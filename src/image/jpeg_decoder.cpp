// JPEG through libjpeg-turbo with PIL's settings: the library's defaults (accurate integer IDCT,
// fancy upsampling, block smoothing), output by component count as PIL chooses its mode
// (1: L, 3: RGB, 4: CMYK), no draft mode.
#include <cstdio>  // jpeglib.h needs FILE and size_t first

#include <jerror.h>
#include <jpeglib.h>

#include <csetjmp>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "image/decoders.h"

namespace biggan::image::detail {

namespace {

// libjpeg reports errors through a callback that must not return: it jumps back to the
// decoding function, which then throws. No C++ object with a destructor lives between the
// setjmp and the library calls that may jump.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool ran_out_of_data;  // the data ended before the decoder was done
};

extern "C" void on_jpeg_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (corrupt data the decoder recovers from) are ignored, as PIL ignores them, except
// running out of data: PIL refuses a truncated file ("image file is truncated").
extern "C" void on_jpeg_message(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) err->ran_out_of_data = true;
}

struct Decoded {
  int width = 0, height = 0, components = 0;
  bool truncated = false;
};

// Returns false with err->message set when libjpeg failed. `pixels` is sized inside once the
// header is known; it is created by the caller so that a jump leaks nothing.
bool run_libjpeg(const std::string& bytes, DecodeDepth depth, std::vector<unsigned char>& pixels, Decoded& out,
                 ErrorManager& err) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_jpeg_error;
  err.pub.emit_message = on_jpeg_message;
  err.ran_out_of_data = false;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  out.components = cinfo.num_components;
  if (cinfo.num_components == 1) cinfo.out_color_space = JCS_GRAYSCALE;
  else if (cinfo.num_components == 3) cinfo.out_color_space = JCS_RGB;
  else if (cinfo.num_components == 4) cinfo.out_color_space = JCS_CMYK;
  else {
    std::snprintf(err.message, sizeof err.message, "cannot handle %d-layer JPEG images", cinfo.num_components);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  if (static_cast<long long>(cinfo.image_width) * cinfo.image_height > kMaxImagePixels) {
    std::snprintf(err.message, sizeof err.message, "image of %ux%u exceeds PIL's limit of %lld pixels",
                  cinfo.image_width, cinfo.image_height, kMaxImagePixels);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  if (depth == DecodeDepth::verify) {
    // Every entropy-coded byte is still read (and damage reported); only the IDCT shrinks.
    cinfo.scale_num = 1;
    cinfo.scale_denom = 8;
  }
  jpeg_start_decompress(&cinfo);
  out.width = static_cast<int>(cinfo.output_width);
  out.height = static_cast<int>(cinfo.output_height);
  const std::size_t row = static_cast<std::size_t>(cinfo.output_width) * cinfo.output_components;
  pixels.resize(row * cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[1] = {pixels.data() + row * cinfo.output_scanline};
    jpeg_read_scanlines(&cinfo, rows, 1);
  }
  // PIL feeds libjpeg through a suspending source and refuses the file as soon as libjpeg asks
  // for bytes past its end, even when only the end marker is missing; the memory source asks
  // at the same point. No jpeg_finish_decompress: PIL does not read past the last scanline.
  out.truncated = err.ran_out_of_data;
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

Image decode_jpeg(const std::string& bytes, const std::string& source, DecodeDepth depth) {
  std::vector<unsigned char> pixels;
  Decoded d;
  ErrorManager err;
  std::memset(&err, 0, sizeof err);
  if (!run_libjpeg(bytes, depth, pixels, d, err))
    throw Error(source + ": cannot decode JPEG (" + std::string(err.message) + ")");
  if (d.truncated) throw Error(source + ": damaged JPEG (the file is truncated)");
  if (d.components == 3) {
    Image img;
    img.width = d.width;
    img.height = d.height;
    img.rgb = std::move(pixels);
    return img;
  }
  Image img = allocate_rgb(d.width, d.height, source);
  const std::size_t n = static_cast<std::size_t>(d.width) * d.height;
  if (d.components == 1) {
    for (std::size_t i = 0; i < n; ++i) img.rgb[3 * i] = img.rgb[3 * i + 1] = img.rgb[3 * i + 2] = pixels[i];
  } else {
    // PIL reads CMYK JPEGs as "CMYK;I" (Adobe's inverted polarity) before cmyk2rgb.
    for (std::size_t i = 0; i < n; ++i) {
      const int k = 255 - pixels[4 * i + 3];
      for (int c = 0; c < 3; ++c) img.rgb[3 * i + c] = cmyk_channel(255 - pixels[4 * i + c], k);
    }
  }
  return img;
}

}  // namespace biggan::image::detail
